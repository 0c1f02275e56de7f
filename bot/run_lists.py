"""Counting and listing runs: how many times a job ran or failed in a period, its last N
runs, its most recent good run — each run as the watcher judges it (a run that said
"succeeded" but ended early, missed its final milestone or was far from usual is not good)."""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.wording import capital, clock_time, day_name, listing, moment, quantity, quoted
from bot import cards, details, handlers, logged, run_conditions
from bot.answer_state import JudgedRun, judge_runs
from bot.clarify import content_words
from bot.facts import Reply
from bot.handlers import Ask, state_word
from bot.jobfinder import job_words
from bot.language import stem
from bot.matching import best_named
from bot.periods import NUMBER_WORDS, run_window
from bot.question_words import HEAD_FREE, described_words, unplaced_head
from bot.run_facts import run_facts
from storage import job_state, queries
from storage.history import successful_history
from storage.models import Job, Run

MAX_RUNS = 500
RERUN_WORDS = frozenset({"rerun", "reran", "reruns", "rerunning", "retry", "retried", "restarted",
                         "again", "nochmal", "erneut", "wiederholt"})
RERUN_ASKS = re.compile(r"\b(did|has|was|were|is) (anyone|somebody|someone|it|they|the \w+)\b")
SHORT_LIST = 5  # runs a list may explain; longer lists (a year's failures) only say how each went
REASONS_READ = 1  # bad runs of a list (the latest) whose facts are read to say why
FINISHED_WORDS = frozenset({"finished", "completed", "complete", "ended", "done", "fertige",
                            "abgeschlossene"})
CONDITION_RUNS = 100  # runs read event by event for "how many runs had …"
FAIL_WORDS = {"fail", "failed", "fails", "failing", "failure", "failures", "broke", "broken",
              "crash", "crashed", "error", "errors", "fehlgeschlagen"}
GOOD_WORDS = {"good", "successful", "succeeded", "succeed", "success", "ok", "okay", "clean",
              "complete", "completed", "proper", "properly", "successfully", "correctly",
              "cleanly", "full", "fully", "working", "erfolgreich", "erfolgreicher",
              "erfolgreiche", "erfolgreichen", "erfolgreiches", "gut", "guter", "gute",
              "green", "worked", "work", "fine"}
# "the last 5 runs", "last two scorecards", "letzte 5 frachtraten imports" — not "last 3 days".
LAST_N = re.compile(r"\b(?:last|past|previous|latest|recent|letzten?|vorigen?) (?P<n>\d{1,3}|"
                    + "|".join(NUMBER_WORDS) + r") (?!(?:days?|weeks?|nights?|hours?|months?|tage|"
                    r"wochen|naechte|stunden|monate)\b)[a-z]")
TIMES = {1: "once", 2: "twice"}
LAST_WORDS = frozenset({"last", "latest", "letzte", "letzter", "letztes", "letzten", "zuletzt"})


async def judged_runs(job: Job, runs: list[Run], session: AsyncSession, *,
                      seen: dict[int, int] | None = None, stored: bool = True) -> list[JudgedRun]:
    """Each run with the watcher's judgement: stored ones, and the rest worked out from three
    queries whatever their number (and stored, when `seen` holds the job's revision as read
    before the runs were)."""
    return await judge_runs({job.id or 0: job}, runs, seen, session=session, stored=stored)


COUNTED_DAYS = frozenset({"day", "night", "tag", "nacht", "time", "mal"})
COUNTED = re.compile(r"\b(?:how many|number of|wie viele|anzahl) (?P<noun>[a-z]+)(?: (?P<then>[a-z]+))?")


async def metric_or_count(ask: Ask) -> Reply:
    """"How many syncs ran over the weekend?", "how many scorecards so far?" count runs: the
    thing counted is the job itself, and no number it reports is named so."""
    assert ask.job is not None
    counted = COUNTED.search(ask.text)
    history = await successful_history(ask.job, before=ask.now, limit=5, session=ask.session)
    named = {stem(w) for name in history.metrics for w in re.split(r"[-_. ]+", name.lower())}
    if counted:
        own = {stem(w) for w in job_words(ask.job)} | {"run", "time", "execution", "rerun"}
        for noun in (stem(w) for w in (counted["noun"], counted["then"]) if w):
            if noun in own and run_conditions.reaches_a_milestone(ask, list(history.milestones)) \
                    and not best_named(ask.tokens, list(history.metrics), job_words(ask.job)):
                return await runs(ask)  # "how many forecasts got published": runs that did
            if noun in named:
                break
            if noun in own or noun in COUNTED_DAYS:
                return await runs(ask)  # "how many days did it check fewer than 3000"
    own_only = best_named(ask.tokens, list(history.metrics), job_words(ask.job), at_least=1)
    # "how many sheets are in the carrier scorecard": no metric counts sheets, a field may.
    metric_words = {w for name in history.metrics for w in re.split(r"[-_. ]+", name.lower())}
    unplaced = unplaced_head(ask.text, ask.job, metric_words, described_words(ask.job)) is not None
    if not best_named(ask.tokens, list(history.metrics), job_words(ask.job), at_least=3) and (
            stored := await details.stored_answer(ask, at_least=6 if own_only and not unplaced else 3)):
        return stored  # "how many carriers does it cover", "weeks of history": payload fields
    if not best_named(ask.tokens, list(history.metrics), job_words(ask.job), at_least=3) and (
            found := await logged.logged_reply(ask)):
        return found  # "how many lines were in the file": a number a note holds
    return await handlers.metric(ask)


def times(count: int) -> str:
    return TIMES.get(count, f"{count} times")


async def runs(ask: Ask) -> Reply:
    """How many runs, how many failed, the last N, the last good one."""
    assert ask.job is not None
    job = ask.job
    asked = set(ask.tokens)
    last_n = LAST_N.search(ask.text)
    count = 0
    if last_n:
        count = int(last_n["n"]) if last_n["n"].isdigit() else NUMBER_WORDS[last_n["n"]]
    # "the last 5 runs" needs only those five, unless runs at another time of day are left out.
    limit = count + (5 if asked & FINISHED_WORDS else 0) + (3 * count + 10 if asked & GOOD_WORDS else 0) \
        if last_n and (ask.period is None or ask.period.at_time is None) else MAX_RUNS
    seen = await job_state.revisions(job_ids=[job.id or 0], session=ask.session)
    if ask.period is not None:
        found: Sequence[Run] = ask.period.chosen(await queries.list_runs(
            job, since=ask.period.start, until=min(ask.period.end, ask.now), limit=limit,
            session=ask.session))
    else:
        found = await queries.list_runs(job, until=ask.now, limit=limit, session=ask.session)
    judged = await judged_runs(job, list(found), ask.session, seen=seen,  # newest first
                               stored=ask.state.keep)
    when = f" {ask.period.label}" if ask.period else " so far"
    if ask.period is not None and ask.period.at_time is not None:
        judged = [j for j in judged if _near(j.run, ask)]
    if last_n and asked & FINISHED_WORDS:  # "the last 3 finished forecasts"
        judged = [j for j in judged if j.run.finished_at is not None]
    if last_n and asked & GOOD_WORDS:  # "the last 3 audits that worked": that did not fail
        judged = [j for j in judged if j.run.finished_at is not None and not j.bad]
    if last_n:
        kept = " that did not fail" if asked & GOOD_WORDS else ""
        return await _listing(ask, job, judged[:count],
                              f"The last {len(judged[:count])} runs of {job.title}{kept}:")
    if asked & LAST_WORDS and asked & GOOD_WORDS and not asked & {"how", "many", "often"}:
        return await _fact_of(ask, _last_good(ask, job, judged), judged)
    yes_no = bool(RERUN_ASKS.search(ask.text)) or ask.yes_no_question
    if asked & RERUN_WORDS and ask.period is not None:  # "did anyone rerun it?"
        again = list(reversed(judged))
        said = listing([f"{state_word(j.state)} at {clock_time(j.run.started_at.astimezone(ask.zone))}"
                        for j in again])
        polar = ("Yes — " if len(again) > 1 else "No — ") if yes_no else ""
        first = (f"{polar}{job.title} ran {times(len(again))} {ask.period.label}: {said}."
                 if again else f"{polar}{job.title} has not run {ask.period.label}.")
        return await _listing(ask, job, judged[:10], first)
    if judged and (where := await run_conditions.runs_where(ask, judged[:CONDITION_RUNS])):
        return await _meeting(ask, job, where[0], where[1], min(len(judged), CONDITION_RUNS), when)
    if asked & FAIL_WORDS and not asked & RERUN_WORDS:
        bad = [j for j in judged if j.bad]
        if not bad:
            first = f"{'No — ' if yes_no else ''}{job.title} did not fail{when}: it ran " \
                    f"{times(len(judged))}" + (", every run succeeded." if all(j.good for j in judged)
                                               else ".")
            return await _listing(ask, job, judged[:10], first)
        first = (f"{'Yes — ' if yes_no else ''}{job.title} failed {times(len(bad))}{when}: "
                 f"{listing([_when(ask, j) for j in reversed(bad[:10])])}; it ran "
                 f"{times(len(judged))} in all.")
        return await _listing(ask, job, judged[:10], first)
    if not judged:
        return _reply(job, f"{job.title} has not run{when}.")
    states = Counter(state_word(j.state) for j in judged)
    parts = [f"{count} {state}" for state, count in states.most_common()]
    first = f"{job.title} ran {times(len(judged))}{when} ({len(judged)} runs: {listing(parts)})."
    return await _listing(ask, job, judged[:10], first)


async def rerun_in(ask: Ask) -> Run | None:
    """The latest run of the period asked about, when there was an earlier one: the rerun."""
    assert ask.job is not None and ask.period is not None
    found = await queries.list_runs(ask.job, since=ask.period.start,
                                    until=min(ask.period.end, ask.now), limit=2, session=ask.session)
    return found[0] if len(found) == 2 else None


SEVERAL_A_DAY = 2  # runs in a day (or part of one) that make "did it run?" a question about each


async def day_of_runs(ask: Ask) -> Reply:
    """"Did all six syncs go through on the 20th?", "did the evening syncs run on Sunday?":
    for a job that ran several times in the day, night or part of a day asked about, how each
    run went, not only the last. Yes or no goes by the day's last run, as for a single run
    ("it failed at 04:02, then the rerun at 09:30 succeeded" is a yes); "did it fail?" is a
    yes when any run did."""
    assert ask.job is not None and ask.period is not None
    found = await queries.list_runs(ask.job, since=ask.period.start,
                                    until=min(ask.period.end, ask.now), limit=MAX_RUNS,
                                    session=ask.session)
    seen = await job_state.revisions(job_ids=[ask.job.id or 0], session=ask.session)
    judged = await judged_runs(ask.job, list(found), ask.session, seen=seen, stored=ask.state.keep)
    oldest_first = list(reversed(judged))
    at = {id(j): clock_time(j.run.started_at.astimezone(ask.zone)) for j in judged}
    finished = [j for j in oldest_first if j.state != "running"]
    wrong = [j for j in finished if j.bad]
    runs_of = f"{_count_of(len(judged))} of {ask.job.title} {ask.period.label}"
    if not wrong and all(j.good for j in finished):
        said = f"{'both' if len(finished) == 2 else f'all {len(finished)}'} runs of " \
               f"{ask.job.title} {ask.period.label} succeeded: at {listing([at[id(j)] for j in finished])}"
    else:
        said = f"{runs_of}: " + listing([f"the run at {at[id(j)]} {state_word(j.state)}"
                                         for j in finished])
    said += "".join(f"; the run at {at[id(j)]} is still running" for j in oldest_first
                    if j.state == "running")
    if handlers.asks_if_failed(ask):
        polar = "Yes" if wrong else "No"
    else:
        polar = "Yes" if finished and not finished[-1].bad else "No"
    first = f"{polar} — {said}." if ask.yes_no_question else f"{capital(said)}."
    return await _listing(ask, ask.job, judged[:10], first)


async def several_in_the_day(ask: Ask) -> bool:
    """The job ran more than once in the one day, night or part of a day asked about."""
    assert ask.job is not None
    period = ask.period
    if period is None or period.at_time is not None or period.weekdays or not (
            len(period.days) == 1 or period.label.endswith("night")) or COUNTED.search(ask.text):
        return False  # "how many syncs today" is a count
    found = await queries.list_runs(ask.job, since=period.start, until=min(period.end, ask.now),
                                    limit=SEVERAL_A_DAY, session=ask.session)
    return len(found) >= SEVERAL_A_DAY


def _count_of(runs: int) -> str:
    return {2: "two runs", 3: "three runs"}.get(runs, f"{runs} runs")


async def _meeting(ask: Ask, job: Job, condition: run_conditions.Condition, met: list[JudgedRun],
             among: int, when: str) -> Reply:
    """"The audit reported fewer than 3,000 invoices checked on 4 of its 14 runs so far"."""
    days = {j.run.started_at.astimezone(ask.zone).date() for j in met}
    on = f" on {len(days)} days" if len(days) != len(met) else ""
    yes_no = ask.yes_no_question
    polar = ("Yes — " if met else "No — ") if yes_no else ""
    first = (f"{polar}{len(met)} of {among} runs of {job.title}{when} {condition.said}{on}"
             + (":" if met else "."))
    return await _listing(ask, job, met[:10], first)


def _near(run: Run, ask: Ask) -> bool:
    assert ask.period is not None and ask.period.at_time is not None
    local = run.started_at.astimezone(ask.zone)
    for day in ask.period.days:
        start, end = run_window(day, ask.period.at_time, ask.zone)
        if start <= local < end:
            return True
    return False


def _when(ask: Ask, judged: JudgedRun) -> str:
    started = judged.run.started_at.astimezone(ask.zone)
    said = "" if judged.state == "failed" else f", {state_word(judged.state)}"
    return f"{moment(started, ask.today)}{said}"


async def _fact_of(ask: Ask, about: Reply, judged: list[JudgedRun]) -> Reply:
    """"The mape of the last good forecast", "which snapshot is the last good one": the fact
    named, of the last good run, before what that run was."""
    good = next((j.run for j in judged if j.good), None)
    if good is None or ask.job is None:
        return about
    chosen = replace(ask, run=good, period=None)
    events = await queries.run_events(good, kinds=["metric"], session=ask.session)
    if best_named(ask.tokens, [e.name for e in events if e.name], job_words(ask.job)):
        fact = await handlers.metric(chosen)
    elif (stored := await details.stored_answer(chosen)) is not None:
        fact = stored
    else:
        return about
    first = fact.text.split("\n", 1)[0]
    return _reply(ask.job, f"{first}\n- {about.text}")


def _last_good(ask: Ask, job: Job, judged: list[JudgedRun]) -> Reply:
    good = next((j for j in judged if j.good), None)
    if good is None:
        return _reply(job, f"{job.title} has no good run {ask.period.label if ask.period else 'yet'}"
                           " — none that the watcher judged fully successful.")
    run = good.run
    started = run.started_at.astimezone(ask.zone)
    ended = run.finished_at.astimezone(ask.zone) if run.finished_at else started
    text = (f"{job.title}'s last good run started {moment(started, ask.today)} and finished "
            f"successfully {moment(ended, ask.today)} (run {run.key}).")
    newer = [j for j in judged if j.run.started_at > run.started_at]
    if newer:
        text += f" The {len(newer)} run{'s' if len(newer) != 1 else ''} after it: " + listing(
            [f"{moment(j.run.started_at.astimezone(ask.zone), ask.today)} "
             f"({state_word(j.state)})" for j in reversed(newer[:5])]) + "."
    return _reply(job, text)


def _day_and_time(at: datetime, ask: Ask) -> str:
    """"today at 04:00", "yesterday at 04:02", "Sunday at 04:01": a list names each day."""
    return f"{day_name(at.date(), ask.today)} at {clock_time(at)}"


async def _listing(ask: Ask, job: Job, judged: list[JudgedRun], first: str) -> Reply:
    """One line per run: when, how it went, and — for a bad run or when the question names a
    number — why, or that number."""
    explained = {j.run.id for j in judged if not j.good and j.state != "failed"
                 and j.state != "running"}
    explained = {i for i in [j.run.id for j in judged if j.run.id in explained][:REASONS_READ]} \
        if len(judged) <= SHORT_LIST else set()  # a long list says how each went, not why
    numbered = bool(content_words(ask) - HEAD_FREE)  # a number may be named: each run's value
    lines = [f"{capital(_day_and_time(j.run.started_at.astimezone(ask.zone), ask))}: "
             f"{state_word(j.state)}{await _why(ask, job, j, numbered, j.run.id in explained)}"
             f" (run {j.run.key})" for j in judged]
    text = first + ("\n" + "\n".join(f"- {line}" for line in lines) if lines else "")
    return _reply(job, text)


async def _why(ask: Ask, job: Job, judged: JudgedRun, numbered: bool, explained: bool) -> str:
    """", 212 rates parsed (usually 18,187 to 18,427)" for a run judged bad; ", forecast mape 8.4 %"
    when the question names that number."""
    if numbered:
        events = await queries.run_events(judged.run, kinds=["metric", "milestone"], session=ask.session)
        named = best_named(ask.tokens, [e.name for e in events if e.name and e.kind == "metric"],
                           job_words(job))
        if named:
            value = next(e for e in events if e.name == named)
            return f", {handlers.label(named)} {quantity(value.value or 0, value.data.get('unit'))}"
        reached = [e for e in events if e.kind == "milestone" and (e.status or "reached") == "reached"]
        milestone = run_conditions.milestone_by_words(ask, [e.name for e in reached if e.name],
                                                   job_words(job))
        if milestone:  # "when did the last three forecasts get published?"
            at = next(e.at for e in reached if e.name == milestone)
            return f", {quoted(milestone)} at {clock_time(at.astimezone(ask.zone))}"
    if run_conditions.LOGGED.search(ask.text):  # "any warnings last week?": what they said
        notes = [e for e in await queries.run_events(judged.run, kinds=["note"], session=ask.session)
                 if e.data.get("level") in ("warning", "error") and e.data.get("text")]
        if notes:
            return f": {str(notes[0].data['text'])[:160]}"
    if judged.state == "failed":
        return f": {judged.run.summary[:120]}" if judged.run.summary else ""
    if judged.good or judged.state == "running" or not explained:
        return ""
    facts = await run_facts(job, judged.run, ask.zone, session=ask.session)
    if any(m.unusual for m in facts.metrics):
        return ": " + listing(handlers.unusual_values(facts)[:2])
    return ""


def _reply(job: Job, text: str) -> Reply:
    return Reply(text, cards.text_card(job.title, text))


async def overview(ask: Ask) -> Reply:
    """Everything now ("is anything broken?"), or what went wrong in a period ("did
    anything fail over the weekend?", "did everything go ok last night?")."""
    if ask.period is None or ask.period.label == "today" or handlers.LATE_WORDS & set(ask.tokens):
        return await handlers.overview(ask)
    return await period_overview(ask)


def _moment_in(ask: Ask, at: datetime) -> str:
    """"at 01:31" within a day or a night; "Tue 24 Nov 01:31" over longer periods."""
    local = at.astimezone(ask.zone)
    if ask.period is not None and len(ask.period.days) > 2:
        return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"
    return moment(local, ask.today)


def _rerun_after(ask: Ask, bad: JudgedRun, judged: list[JudgedRun]) -> str:
    """", then the run at 09:30 succeeded" when a later run of the period went well."""
    later = [j for j in judged if j.run.started_at > bad.run.started_at]  # newest first
    if not later or not later[-1].good:
        return ""
    started = later[-1].run.started_at.astimezone(ask.zone)
    return f", then the run {moment(started, ask.today)} succeeded"


async def job_problems(ask: Ask) -> Reply:
    """"Anything off with the customs filings this week?": one job's period overview."""
    return await period_overview(ask, only=ask.job)


async def period_overview(ask: Ask, *, only: Job | None = None) -> Reply:
    assert ask.period is not None
    start, end = ask.period.start, min(ask.period.end, ask.now)
    only_failures = bool(FAIL_WORDS & set(ask.tokens))
    problems, total = [], 0
    lines: list[str] = []
    visible = [only] if only else await ask.visible_jobs()
    jobs, by_id = len(visible), {job.id or 0: job for job in visible}
    # Kept per job between questions: read and judged again only for jobs written to since.
    judged_of = await ask.state.judged_runs(by_id, since=start, end=ask.period.end, until=end,
                                            limit=MAX_RUNS, session=ask.session)
    if ask.period.weekdays:  # "on Fridays": the runs of those days
        judged_of = {job_id: [j for j in judged if ask.period.covers(j.run.started_at)]
                     for job_id, judged in judged_of.items()}
    missed: dict[int, list[datetime]] = {}
    for alert in await queries.alerts_about_occurrences(list(by_id), ("did_not_start",), since=start,
                                                        until=end, session=ask.session):
        missed.setdefault(alert.job_id, []).append(alert.occurrence_at or alert.opened_at)
    for job in visible:
        judged = judged_of[job.id or 0]
        total += len(judged)
        wrong = [j for j in judged if j.bad or (not only_failures and j.state == "unusual")]
        why = handlers.CAUSE_WORDS & set(ask.tokens)
        said = [f"{state_word(j.state)} ({_moment_in(ask, j.run.started_at)})"
                + (await handlers.cause_of(j.run, ask) if why else "")
                + _rerun_after(ask, j, judged) for j in reversed(wrong[:5])]
        said += [f"did not start (scheduled {_moment_in(ask, at)})"
                 for at in missed.get(job.id or 0, [])[:5]]
        if said:
            problems.append(f"{job.title} — " + listing(said))
        if judged and (said or len(lines) < handlers.MAX_LISTED):
            counts = Counter(state_word(j.state) for j in judged)
            lines.append(f"{job.title}: {len(judged)} run{'s' if len(judged) != 1 else ''} ("
                         + listing([f"{n} {s}" for s, n in counts.most_common()]) + ")")
    label = ask.period.label
    if only is not None:
        said_all = problems[0].split(" — ", 1)[1] if problems else ""
        first = handlers.polar(True, f"{only.title} {'failed' if only_failures else 'had problems'} "
                               f"{label}: {said_all}.", ask) if problems else handlers.polar(
            False, f"Nothing went wrong with {only.title} {label}: {total} runs, all fine.", ask)
    elif problems:
        what = "failed" if only_failures else "had problems"
        first = handlers.polar(True, f"{len(problems)} of {jobs} jobs {what} {label}: "
                               + "; ".join(problems) + ".", ask)
    else:
        what = "failed" if only_failures else "went wrong"
        first = handlers.polar(False, f"Nothing {what} {label}: {total} runs of {jobs} jobs, "
                               "all fine.", ask)
    ran = sum(1 for found in judged_of.values() if found)
    if ran > len(lines):
        lines.append(f"… and {ran - len(lines)} more jobs that ran {label}")
    text = first + ("\n" + "\n".join(f"- {line}" for line in lines) if lines else "")
    return Reply(text, cards.text_card("Runs " + label, text))
