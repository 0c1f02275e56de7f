"""A job's schedule read as words: "every day at 01:30 Berlin time", "Monday to Friday at
22:15 New York time", "every 4 hours at :05" — from its cron expression in its own zone,
with the next due time and the milestone deadlines in the asker's zone."""

import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from alerts.expectations import Deadline, deadlines, start_within
from alerts.wording import clock_time, duration, listing, moment, quoted
from bot import cards
from bot.facts import Reply
from bot.handlers import Ask, the_run
from bot.periods import night_period
from bot.run_facts import run_facts
from bot.schedule_words import in_words, place, runs_on, upcoming, zone_of
from bot.stored import root
from storage.durations import parse_duration
from storage.models import Job

WEEKEND_WORDS = {"weekend", "weekends", "saturday", "saturdays", "sunday", "sundays",
                 "wochenende", "samstag", "sonntag"}
NIGHT_WORDS = {"night", "nights", "overnight", "nachts", "nighttime"}
LIMIT_WORDS = {"allowed", "max", "maximum", "limit", "long"}
OFTEN_WORDS = {"often", "frequently", "oft", "haeufig", "frequency", "interval"}
UNTIL_WORDS = {"until", "till", "left", "hits", "hit", "reaches", "reach", "bis"}
FUTURE_WORDS = {"going", "gonna", "will", "wird", "later", "still"}
DEADLINE_WORDS = {"supposed", "due", "deadline", "expected", "should", "sla", "soll", "sollte",
                  "published", "ready", "done", "finish", "finished", "by"}


async def schedule(ask: Ask) -> Reply:
    """When a job runs, how often, whether on weekends, when it is due next, and by when its
    milestones are due."""
    assert ask.job is not None
    job = ask.job
    if not job.schedule:
        text = (f"I don't know when {job.title} runs: no schedule is set; add `schedule` (cron, "
                f"in its `timezone`) to its job definition.")
        return Reply(text, cards.text_card(job.title, text))
    asked = set(ask.tokens)
    words = in_words(job, ask.now)
    following = upcoming(job, ask.now, ask.now + timedelta(days=60))
    nxt = following[0] if following else None
    next_clause = ""
    if nxt is not None:
        local = nxt.astimezone(ask.zone)
        own = nxt.astimezone(zone_of(job))
        next_clause = f"; next {_on(local, ask)}"
        if local.utcoffset() != own.utcoffset():
            mine = f"{place(ask.zone)} time" if ask.zone_asked else "your time"
            next_clause += f" {mine} ({own.strftime('%a')} {own.day} {own.strftime('%b %H:%M')} " \
                           f"{place(zone_of(job))} time)"
    if asked & {"cron", "crontab", "expression"}:  # "what cron does it use?"
        return _reply(job, f"{job.title} runs on cron `{job.schedule}` in {place(zone_of(job))} "
                           f"time: {words}{next_clause}.")
    if remaining := _still_to_come(ask, job):
        return _reply(job, remaining)  # "how many syncs are still to come today?"
    if after := _after_named_time(ask, job):
        return _reply(job, after)  # "when's the sync after the 09:05 one?"
    if ask.period is not None and not ask.period.weekdays and ask.yes_no_question and \
            not asked & (DEADLINE_WORDS - {"supposed"}) and (on_days := _on_days_asked(ask, job, words)):
        return _reply(job, on_days)  # "is it going to run tonight?", "does it run at 03:05?"
    if asked & NIGHT_WORDS and not asked & DEADLINE_WORDS:  # "does it run at night too?"
        coming = upcoming(job, ask.now, ask.now + timedelta(days=1))
        nightly = sorted({f"{t.astimezone(ask.zone):%H:%M}" for t in coming
                          if t.astimezone(ask.zone).hour < 6 or t.astimezone(ask.zone).hour >= 22})
        first = (f"Yes — {job.title} runs at night too: {listing(nightly)} ({place(ask.zone)} time)."
                 if nightly else f"No — {job.title} does not run at night: it runs {words}.")
        return _reply(job, first + (f" Next run{next_clause.removeprefix('; next')}." if nxt else ""))
    if asked & WEEKEND_WORDS:
        weekend = runs_on(job, ask.now, {5, 6})
        first = f"{'Yes' if weekend else 'No'} — {job.title} runs {words}"
        first += "." if weekend else ", not on weekends."
        return _reply(job, first + (f" Next run{next_clause.removeprefix('; next')}." if nxt else ""))
    deadline_lines = milestone_deadlines(job, nxt, ask) if nxt else []
    if nxt is not None and nxt.astimezone(ask.zone).utcoffset() != nxt.astimezone(zone_of(job)).utcoffset():
        coming = upcoming(job, ask.now, ask.now + timedelta(days=1))
        day = sorted({f"{t.astimezone(ask.zone):%H:%M}" for t in coming})
        if 1 < len(day) <= 24:  # several a day: each in the asker's clock too
            deadline_lines.insert(0, f"In {place(ask.zone)} time: {listing(day)}")
    if asked & DEADLINE_WORDS and ask.period is not None and ask.period.end <= ask.now and \
            (met := await _deadlines_met(ask, job)):
        return _reply(job, met)  # "forecast on the 21st - out before its deadline?"
    if asked & DEADLINE_WORDS and deadline_lines and not asked & OFTEN_WORDS:
        chosen = _named_deadline(ask, job, nxt) if nxt else None
        if chosen:
            return _reply(job, f"{chosen} ({job.title} runs {words}).")
    first = f"{job.title} runs {words}{next_clause}."
    within = duration(start_within(job).total_seconds())
    lines = [*deadline_lines, f"It should start within {within} of its scheduled time"]
    if not job.expect.get("max_runtime") and asked & LIMIT_WORDS and asked & {"max", "maximum", "limit"}:
        first = (f"No — {job.title} has no `max_runtime` set, so no run is too long for it; "
                 f"{first[:1].lower()}{first[1:]}")
    if (limit := job.expect.get("max_runtime")) and asked & UNTIL_WORDS and \
            (reaching := await _reaching_limit(ask, job, parse_duration(str(limit)))):
        return _reply(job, reaching)  # "how long until the forecast hits its max runtime?"
    if limit := job.expect.get("max_runtime"):
        said = f"It may run at most {duration(parse_duration(str(limit)).total_seconds())} (`max_runtime`)"
        if asked & LIMIT_WORDS:
            first = f"{said} — {job.title} runs {words}{next_clause}."
        else:
            lines.append(said)
    return _reply(job, first + "\n" + "\n".join(f"- {line}" for line in lines))


def _on_days_asked(ask: Ask, job: Job, words: str) -> str | None:
    """Whether the job is scheduled in the period asked about, or at the time of day named:
    "is the export going to run tonight?", "was it even supposed to run on Monday?", "does
    the sync run at 03:05?" — yes or no, with its times in the asker's clock."""
    period = ask.period
    assert period is not None
    if period.label == "last night" and "tonight" in ask.tokens and FUTURE_WORDS & set(ask.tokens):
        period = night_period("tonight", ask.today, ask.zone)  # "going to run tonight?", asked at 08:40
    if period.at_time is not None:  # at that time of day, on the days named or any day
        span = (ask.now, ask.now + timedelta(days=7)) if len(period.days) == 1 and \
            period.days[0] == ask.today else (period.start.astimezone(UTC), period.end.astimezone(UTC))
        at = [t for t in upcoming(job, span[0] - timedelta(days=1), span[1])
              if t.astimezone(ask.zone).time().replace(second=0) == period.at_time]
        said = f"{period.at_time:%H:%M}" + ("" if ask.zone == zone_of(job) else " your time")
        if at:
            return f"Yes — {job.title} runs at {said}: it runs {words}."
        day = sorted({clock_time(t.astimezone(ask.zone)) for t in upcoming(job, ask.now,
                                                                          ask.now + timedelta(days=1))})
        mine = f" — at {listing(day)} your time" if ask.zone != zone_of(job) and len(day) <= 12 else ""
        return f"No — {job.title} does not run at {said}: it runs {words}{mine}."
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    due = [t for t in upcoming(job, start - timedelta(seconds=1), end) if period.covers(t)]
    past = end <= ask.now
    when = listing([_on(t.astimezone(ask.zone), ask) if not past else
                    f"{t.astimezone(ask.zone):%a} {t.astimezone(ask.zone).day} "
                    f"{t.astimezone(ask.zone):%b} at {clock_time(t.astimezone(ask.zone))}"
                    for t in due[:6]])
    if due:
        verb = "was scheduled to run" if past else "is due to run"
        return f"Yes — {job.title} {verb} {period.label}: {when} (it runs {words})."
    verb = "was not scheduled to run" if past else "is not due to run"
    return f"No — {job.title} {verb} {period.label}: it runs {words}."


async def _deadlines_met(ask: Ask, job: Job) -> str | None:
    """Whether the run in a past period reached its milestones by their deadlines, for the
    occurrence it ran for (the last one due before it started)."""
    run = await the_run(ask)
    if run is None:
        return None
    due = upcoming(job, run.started_at - timedelta(days=2), run.started_at + start_within(job))
    occurrence = max((t for t in due if t <= run.started_at + start_within(job)), default=None)
    found = [d for d in deadlines(job, occurrence) if d.kind == "milestone"] if occurrence else []
    if not found:
        return None
    facts = await run_facts(job, run, ask.zone, session=ask.session)
    reached = {m.name: m.at for m in facts.milestones if m.status == "reached" and m.at}
    chosen = _named(ask, found) or found[-1]
    at = reached.get(chosen.milestone or "")
    deadline = clock_time(chosen.at.astimezone(ask.zone))
    name = quoted(chosen.milestone or "")
    if at is not None and at <= chosen.at:
        when = f" {ask.period.label}" if ask.period else ""
        return f"Yes — {job.title} reached {name} at {clock_time(at)}{when}, before its {deadline} deadline."
    if at is not None:
        return (f"No — {job.title} reached {name} only at {clock_time(at)}, after its {deadline} "
                f"deadline.")
    return f"No — {job.title} did not reach {name} by its {deadline} deadline."


def _named(ask: Ask, found: list[Deadline]) -> Deadline | None:
    asked = {root(t) for t in ask.tokens}
    return next((d for d in found if asked & {root(w) for w in (d.milestone or "").replace(
        "_", "-").split("-")}), None)


async def _reaching_limit(ask: Ask, job: Job, limit: timedelta) -> str | None:
    """When the run going reaches its `max_runtime`, and how long until then."""
    run = await the_run(replace(ask, period=None))
    if run is None or run.finished_at is not None:
        return None
    at = run.started_at + limit
    left = (at - ask.now).total_seconds()
    started = clock_time(run.started_at.astimezone(ask.zone))
    when = clock_time(at.astimezone(ask.zone))
    if left <= 0:
        return (f"{job.title}'s run that started at {started} passed its {duration(limit.total_seconds())} "
                f"`max_runtime` at {when}, {duration(-left)} ago.")
    return (f"{duration(left)} — {job.title}'s run started at {started}, so it reaches its "
            f"{duration(limit.total_seconds())} `max_runtime` at {when}.")


def _still_to_come(ask: Ask, job: Job) -> str | None:
    """"How many syncs are still to come today?": the day's occurrences after now."""
    if not re.search(r"\b(still to come|left today|remaining today|to go today|rest of the day)\b",
                     ask.text):
        return None
    midnight = datetime.combine(ask.today + timedelta(days=1), datetime.min.time(), tzinfo=ask.zone)
    left = [t.astimezone(ask.zone) for t in upcoming(job, ask.now, midnight.astimezone(UTC))]
    if not left:
        return f"None — {job.title} has no more runs due today; next {_on(_next(job, ask), ask)}."
    return (f"{len(left)} more run{'s' if len(left) != 1 else ''} of {job.title} due today: "
            f"at {listing([clock_time(t) for t in left])}.")


def _after_named_time(ask: Ask, job: Job) -> str | None:
    """"When's the sync after the 09:05 one?": the occurrence after that time today."""
    found = re.search(r"\b(?P<which>after|before) the (?P<h>\d{1,2}):(?P<m>\d{2}) (?:one|run|sync)\b",
                      ask.text)
    if found is None:
        return None
    named = datetime.combine(ask.today, time(int(found["h"]) % 24, int(found["m"]) % 60),
                             tzinfo=ask.zone)
    day = [t.astimezone(ask.zone) for t in upcoming(job, named - timedelta(days=1),
                                                     named + timedelta(days=1))]
    if found["which"] == "after":
        chosen = next((t for t in day if t > named), None)
    else:
        chosen = next((t for t in reversed(day) if t < named), None)
    if chosen is None:
        return None
    return f"The {job.title} run {found['which']} the {clock_time(named)} one is at " \
           f"{clock_time(chosen)} ({_on(chosen, ask)})."


def _next(job: Job, ask: Ask) -> datetime:
    following = upcoming(job, ask.now, ask.now + timedelta(days=60))
    return following[0].astimezone(ask.zone) if following else ask.now


def milestone_deadlines(job: Job, occurrence: datetime, ask: Ask) -> list[str]:
    return [f"{quoted(d.milestone or '')} is due by {clock_time(d.at.astimezone(ask.zone))}"
            for d in deadlines(job, occurrence) if d.kind == "milestone"]


def _named_deadline(ask: Ask, job: Job, occurrence: datetime) -> str | None:
    """The milestone deadline the question's words name, else the last one."""
    found = [d for d in deadlines(job, occurrence) if d.kind == "milestone" and d.milestone]
    if not found:
        return None
    asked = {root(t) for t in ask.tokens}
    named = [d for d in found if asked & {root(w) for w in (d.milestone or "").replace("_", "-")
                                         .split("-")}]
    chosen = named[0] if named else found[-1]
    at = chosen.at.astimezone(ask.zone)
    return (f"{quoted(chosen.milestone or '')} is due by {clock_time(at)} "
            f"({moment(at, ask.today)}, {duration((chosen.at - occurrence).total_seconds())} after "
            f"the {clock_time(occurrence.astimezone(ask.zone))} start)")


def _on(at: datetime, ask: Ask) -> str:
    """ "today at 19:30", "tomorrow at 01:30", "Monday 30 Nov at 22:00"."""
    days = (at.date() - ask.today).days
    if days == 0:
        return f"today at {clock_time(at)}"
    if days == 1:
        return f"tomorrow at {clock_time(at)}"
    return f"{at.strftime('%A')} {at.day} {at.strftime('%b')} at {clock_time(at)}"


def _reply(job: Job, text: str) -> Reply:
    return Reply(text, cards.text_card(job.title, text))
