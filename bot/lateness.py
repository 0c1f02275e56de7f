"""Is a job late, how far behind is it, was it late on Friday — about the right occurrence of
its schedule, in the asker's zone. Now: the watcher's open lateness alerts; a past period:
each scheduled occurrence in it against its deadlines (start within, milestones by)."""

import re
from datetime import datetime, timedelta

from alerts.expectations import LATENESS, Deadline, deadlines, start_within
from alerts.wording import clock_time, duration, listing, moment, quoted
from bot import cards, handlers
from bot.facts import Reply
from bot.handlers import Ask
from bot.run_facts import run_facts
from bot.schedule_words import in_words, upcoming
from storage import queries
from storage.durations import parse_duration
from storage.models import Job, Run

EARLY = timedelta(hours=1)  # a run this long before its occurrence may still be it
# "Did it start late?" asks about the start alone, not its milestones.
START_WORDS = frozenset({"start", "started", "starting", "begin", "began", "kick", "kicked"})
# "Will it make its deadline?": a yes is good news, unlike "is it behind?".
MAKE_WORDS = frozenset({"make", "meet", "hit", "track", "schaffen", "schafft"})


def asks_about_start(ask: Ask) -> bool:
    return bool(START_WORDS & set(ask.tokens))


async def lateness(ask: Ask) -> Reply:
    assert ask.job is not None
    job = ask.job
    if ask.period is None or ask.period.covers(ask.now):
        now_late = await _late_now(ask, job)
        if now_late:  # "is it on time?" is a no when it is behind
            return _reply(job, "No" + now_late.removeprefix("Yes") if asks_if_on_time(ask) else now_late)
        if (pace := await on_pace(ask, job)) is not None:
            return _reply(job, pace)
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
    on_time = asks_if_on_time(ask)  # "did it start on time?": a yes is good news
    if late:
        return _reply(job, f"{'No' if on_time else 'Yes'} — {job.title} was late{when}: "
                           f"{'; '.join(late)}.")
    shown = [text for _, text in verdicts][-3:]
    return _reply(job, f"{'Yes' if on_time else 'No'} — {job.title} was on time{when}: "
                       f"{'; '.join(shown)}.")


def asks_if_on_time(ask: Ask) -> bool:
    return bool(re.search(r"\bon time\b|\bpuenktlich\b|\bin time\b", ask.text)) \
        and "late" not in ask.tokens


async def _late_now(ask: Ask, job: Job) -> str | None:
    """Late right now: its latest due occurrence did not start or missed a deadline (judged
    from its schedule), or the watcher has an open lateness alert about its latest run."""
    due = upcoming(job, ask.now - timedelta(days=8), ask.now - start_within(job))[-1:]
    if due:
        is_late, how = await _judge(ask, job, due[0])
        if is_late:
            behind = ask.now - (due[0] + start_within(job))
            return f"Yes — {job.title} is {duration(behind.total_seconds())} behind: {how}."
    if asks_about_start(ask):
        return None  # its start was judged above; its milestones were not asked about
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
    after = run.started_at - occurrence
    behind = f", {duration(after.total_seconds())} after its scheduled time" \
        if after >= timedelta(minutes=1) else ""
    if run.started_at > occurrence + start_within(job):
        problems.append(f"{name} started late at {clock_time(started)}{behind} (due by "
                        f"{clock_time(due_start)})")
    else:
        fine.append(f"{name} started at {clock_time(started)}{behind} (due by {clock_time(due_start)})")
    if asks_about_start(ask):
        return (True, "; ".join(problems)) if problems else (False, ", ".join(fine))
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


async def on_pace(ask: Ask, job: Job) -> str | None:
    """A run still going, judged by its pace: when it should finish at the rate it reports
    progress, against the deadline of the milestone it ends with (or its longest runtime)."""
    last = await queries.list_runs(job, limit=1, session=ask.session)
    if not last or last[0].finished_at is not None or asks_about_start(ask):
        return None
    facts = await run_facts(job, last[0], ask.zone, session=ask.session)
    if facts.progress is None or facts.progress.eta is None:
        return None
    eta = facts.progress.eta
    limit = _deadline_of_run(job, last[0])
    if limit is None:
        return None
    what, due = limit
    due = due.astimezone(ask.zone)
    in_time = eta <= due
    polar = in_time if MAKE_WORDS & set(ask.tokens) else not in_time
    done = handlers.progress_clause(facts, with_eta=False)
    return (f"{'Yes' if polar else 'No'} — {job.title} is running{done}; at its pace it should "
            f"finish about {clock_time(eta)}, {'before' if in_time else 'after'} {what} is due "
            f"{moment(due, ask.today)}.")


def _deadline_of_run(job: Job, run: Run) -> tuple[str, datetime] | None:
    """The last milestone deadline of the run's occurrence, or the end of its longest runtime."""
    occurrences = upcoming(job, run.started_at - start_within(job) - EARLY, run.started_at + EARLY)
    if not occurrences:
        return None
    occurrence = min(occurrences, key=lambda o: abs(o - run.started_at))
    milestones = [d for d in deadlines(job, occurrence) if d.kind == "milestone" and d.milestone]
    if milestones:
        last = max(milestones, key=lambda d: d.at)
        return quoted(last.milestone or ""), last.at
    if limit := job.expect.get("max_runtime"):
        return "the end of its longest runtime", run.started_at + parse_duration(str(limit))
    return None


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
