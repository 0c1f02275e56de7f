"""Every intent's handler by the intent's name (`bot.intents`): the core questions in
`bot.handlers`, stored facts, schedules, lateness and run counts in their own modules."""

from bot import comparisons, details, handlers, lateness, run_lists, schedules

HANDLERS: dict[str, handlers.Handler] = {
    **handlers.HANDLERS,
    "detail": details.detail,
    "output": details.output_or_fact,
    "schedule": schedules.schedule,
    "lateness": lateness.lateness,
    "runs": run_lists.runs,
    "overview": run_lists.overview,
    "compare": comparisons.compare,
    "metric": run_lists.metric_or_count,
}
