"""Is a job late, how far behind is it, was it late on Friday — about the right occurrence of
its schedule, in the asker's zone. Now: the watcher's open lateness alerts; a past period:
each scheduled occurrence in it against its deadlines (start within, milestones by)."""

from datetime import datetime, timedelta

from alerts.expectations import LATENESS, Deadline, deadlines, start_within
from alerts.wording import clock_time, duration, listing, moment, quoted
from bot import cards, handlers
from bot.facts import Reply
from bot.handlers import Ask
from bot.schedules import in_words, upcoming
from storage import queries
from storage.models import Job, Run

EARLY = timedelta(hours=1)  # a run this long before its occurrence may still be it


async def lateness(ask: Ask) -> Reply:
    assert ask.job is not None
    job = ask.job
    if ask.period is None or ask.period.covers(ask.now):
        now_late = await _late_now(ask, job)
        if now_late:
            return _reply(job, now_late)
    if not job.schedule:
        text = (f"I can't tell whether {job.title} is late: no schedule is set, so nothing is "
                f"due; add `schedule` to its job definition.")
        status = await handlers.status(ask)
        return _reply(job, text + "\n" + status.text)
    if ask.period is not None:
        start, end = ask.period.start, min(ask.period.end, ask.now)
        due = upcoming(job, start - timedelta(microseconds=1), end)
    else:
        due = upcoming(job, ask.now - timedelta(days=8), ask.now)[-1:]
    if not due:
        when = ask.period.label if ask.period else "yet"
        text = f"No — {job.title} was not due {when}: it runs {in_words(job, ask.now)}."
        return _reply(job, text)
    verdicts = [await _judge(ask, job, occurrence) for occurrence in due[-10:]]
    late = [text for is_late, text in verdicts if is_late]
    when = f" {ask.period.label}" if ask.period else ""
    if late:
        return _reply(job, f"Yes — {job.title} was late{when}: {'; '.join(late)}.")
    shown = [text for _, text in verdicts][-3:]
    return _reply(job, f"No — {job.title} was on time{when}: {'; '.join(shown)}.")


async def _late_now(ask: Ask, job: Job) -> str | None:
    """Late right now: its latest due occurrence did not start or missed a deadline (judged
    from its schedule), or the watcher has an open lateness alert about its latest run."""
    due = upcoming(job, ask.now - timedelta(days=8), ask.now - start_within(job))[-1:]
    if due:
        is_late, how = await _judge(ask, job, due[0])
        if is_late:
            behind = ask.now - (due[0] + start_within(job))
            return f"Yes — {job.title} is {duration(behind.total_seconds())} behind: {how}."
    last = await queries.list_runs(job, limit=1, session=ask.session)
    found = handlers.current_alerts(
        [a for a in await handlers.open_alerts(ask) if a.kind in LATENESS], last[0] if last else None)
    if not found:
        return None
    clauses = []
    behind = timedelta(0)
    for alert in found:
        due_at = datetime.fromisoformat(alert.facts["due"]).astimezone(ask.zone) \
            if "due" in alert.facts else (alert.occurrence_at or alert.opened_at)
        behind = max(behind, ask.now - due_at)
        if alert.kind == "milestone_missed":
            clauses.append(f"{quoted(alert.facts.get('milestone', '?'))} was due by "
                           f"{clock_time(due_at.astimezone(ask.zone))} "
                           f"({moment(due_at.astimezone(ask.zone), ask.today)}) and has not been reached")
        else:
            clauses.append(alert.reason.rstrip("."))
    return (f"Yes — {job.title} is {duration(behind.total_seconds())} behind: "
            f"{listing(clauses)}.")


async def _judge(ask: Ask, job: Job, occurrence: datetime) -> tuple[bool, str]:
    """(late, how) for one scheduled occurrence."""
    following = upcoming(job, occurrence, occurrence + timedelta(days=40))
    until = following[0] if following else occurrence + timedelta(days=1)
    runs = list(await queries.list_runs(job, since=occurrence - EARLY, until=until,
                                        oldest_first=True, session=ask.session))
    local = occurrence.astimezone(ask.zone)
    due_start = (occurrence + start_within(job)).astimezone(ask.zone)
    name = f"the {clock_time(local)} run ({moment(local, ask.today)})"
    if not runs:
        if ask.now < due_start:
            return False, f"{name} is not due to start until {clock_time(due_start)}"
        return True, f"{name} did not start (due by {clock_time(due_start)})"
    run = runs[0]
    started = run.started_at.astimezone(ask.zone)
    problems, fine = [], []
    if run.started_at > occurrence + start_within(job):
        problems.append(f"{name} started late at {clock_time(started)} (due by "
                        f"{clock_time(due_start)})")
    else:
        fine.append(f"{name} started at {clock_time(started)} (due by {clock_time(due_start)})")
    reached = await _reached(ask, run)
    for deadline in deadlines(job, occurrence):
        if deadline.kind != "milestone" or not deadline.milestone:
            continue
        clause = _milestone(ask, deadline, reached.get(deadline.milestone))
        if clause[0]:
            problems.append(clause[1])
        elif clause[1]:
            fine.append(clause[1])
    return (True, "; ".join(problems)) if problems else (False, ", ".join(fine))


def _milestone(ask: Ask, deadline: Deadline, at: datetime | None) -> tuple[bool, str]:
    name, due = quoted(deadline.milestone or ""), deadline.at.astimezone(ask.zone)
    if at is None:
        if deadline.at > ask.now:
            return False, ""
        return True, f"{name} was not reached by {clock_time(due)}"
    local = at.astimezone(ask.zone)
    if at > deadline.at:
        return True, f"{name} was reached late at {clock_time(local)} (due by {clock_time(due)})"
    return False, f"reached {name} at {clock_time(local)} (due by {clock_time(due)})"


async def _reached(ask: Ask, run: Run) -> dict[str, datetime]:
    events = await queries.run_events(run, kinds=["milestone"], session=ask.session)
    return {e.name: e.at for e in events if e.name and (e.status or "reached") == "reached"}


def _reply(job: Job, text: str) -> Reply:
    return Reply(text, cards.text_card(job.title, text))
