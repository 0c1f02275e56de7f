"""A run's progress reports over time, not only its latest: "when did the forecast pass 26
warehouses?", "how many warehouses had it done by 8 o'clock?", "how many progress updates
has it sent today?"."""

import re
from datetime import datetime, time

from alerts.wording import clock_time, number, quantity
from bot import cards
from bot.facts import Reply
from bot.handlers import Ask, subject, the_run
from bot.run_facts import run_facts
from storage import queries
from storage.models import Event

PASSED = re.compile(r"\b(?:when|wann)\b.*\b(?:pass|passed|reach|reached|hit|cross|crossed|"
                    r"get past|got past|ueberschritten|erreicht) (?P<n>\d[\d,.]*)\b")
BY_TIME = re.compile(r"\b(?:by|at|um|bis|before) (?P<h>\d{1,2})(?::(?P<m>\d{2}))? ?(?P<ampm>am|pm|oclock|"
                     r"uhr)?\b")
UPDATES = re.compile(r"\bhow many (?:progress )?(?:updates|progress reports|progress events|"
                     r"progress messages)\b|\bwie viele (?:fortschritts)?(?:meldungen|updates)\b")
DONE_WORDS = frozenset({"done", "finished", "processed", "completed", "handled", "had", "fertig",
                        "geschafft"})


def asks_progress_history(ask: Ask) -> bool:
    return bool(UPDATES.search(ask.text) or PASSED.search(ask.text) or (
        "how many" in ask.text and DONE_WORDS & set(ask.tokens) and BY_TIME.search(ask.text)))


async def progress_history_reply(ask: Ask) -> Reply | None:
    """The answer from the run's progress reports, or None when the run reported none."""
    assert ask.job is not None
    run = await the_run(ask)
    if run is None:
        return None
    reports = [e for e in await queries.run_events(run, kinds=["progress"], session=ask.session)
               if e.value is not None]
    if not reports:
        return None
    facts = await run_facts(ask.job, run, ask.zone, session=ask.session)
    who = subject(ask, facts)
    local = [(e, e.at.astimezone(ask.zone)) for e in reports]
    unit = str(reports[-1].data.get("unit") or "")
    if UPDATES.search(ask.text):
        text = (f"{who[:1].upper()}{who[1:]} sent {len(reports)} progress "
                f"update{'s' if len(reports) != 1 else ''}: "
                + ", ".join(f"{clock_time(at)} ({_done(e)})" for e, at in local) + ".")
    elif passed := PASSED.search(ask.text):
        wanted = float(passed["n"].replace(",", ""))
        first = next(((e, at) for e, at in local if (e.value or 0) >= wanted), None)
        if first is None:
            text = (f"Not yet — {who} has reported {_done(reports[-1])} so far (at "
                    f"{clock_time(local[-1][1])}), not {quantity(wanted, unit or None)}.")
        else:
            text = (f"{who[:1].upper()}{who[1:]} passed {quantity(wanted, unit or None)} at "
                    f"{clock_time(first[1])} ({_done(first[0])} reported then).")
    else:
        until = _moment(ask, local[0][1])
        before = [(e, at) for e, at in local if at <= until] if until else []
        if not before:
            text = f"{who[:1].upper()}{who[1:]} had reported no progress by {clock_time(until)}." \
                if until else f"{who[:1].upper()}{who[1:]} reported {_done(reports[-1])}."
        else:
            event, at = before[-1]
            text = (f"By {clock_time(until or at)}, {who} had done {_done(event)} (reported at "
                    f"{clock_time(at)}).")
    return Reply(text, cards.run_card(text, facts))


def _done(event: Event) -> str:
    total = event.data.get("total")
    unit = event.data.get("unit")
    done = number(event.value or 0)
    return f"{done} of {quantity(float(total), unit)}" if total else quantity(event.value or 0, unit)


def _moment(ask: Ask, day_of: datetime) -> datetime | None:
    """"By 8 o'clock", "by 07:30", "by 8pm" on the day of the run's first report."""
    found = BY_TIME.search(ask.text)
    if found is None:
        return None
    hour, minute = int(found["h"]), int(found["m"] or 0)
    if found["ampm"] == "pm" and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return datetime.combine(day_of.date(), time(hour, minute), tzinfo=day_of.tzinfo)
