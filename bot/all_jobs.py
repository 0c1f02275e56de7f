"""Questions about every job at once: runs counted across jobs ("how many runs failed
altogether?", "on how many days did some job fail?"), a fact of each job's definition ("who
owns which job?", "which teams get alerts from any of the jobs?") and the jobs of one person
("does Dana own more than one job?"). Runs are counted as the watcher judges them."""

import re
from collections import Counter
from datetime import UTC, date, datetime

from alerts.wording import capital, clock_time, day_name, listing
from bot import cards
from bot.answer_state import JudgedRun, judge_runs
from bot.facts import Reply
from bot.handlers import Ask, state_word
from bot.jobfinder import person_of
from bot.run_lists import FAIL_WORDS, GOOD_WORDS, MAX_RUNS
from bot.stored import asked_concepts
from storage import job_state, queries
from storage.models import Job

# "how many runs …", "on how many days …": a count of runs, or of the days they fell on.
COUNTED = re.compile(r"\b(?:how many|number of|wie viele|anzahl)(?: of the)? (?P<noun>runs|times|"
                     r"days|nights|failures|mal|tage|laeufe|naechte)\b")
DAY_NOUNS = frozenset({"days", "nights", "tage", "naechte"})
# Words that say a question is about every job, though it names none.
EVERY_JOB = re.compile(r"\b(?:any|some|every|each|all|which|what) (?:of the |of our )?(?:jobs?|one)\b"
                       r"|\b(?:altogether|in total|overall|insgesamt|across)\b|\ball jobs\b")
MORE_THAN_ONE = re.compile(r"\b(?:more than one|several|many|other|others|multiple|mehrere)\b")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def asks_a_count(ask: Ask) -> bool:
    """"How many runs failed altogether?", "on how many days did some job fail?"."""
    return COUNTED.search(ask.text) is not None


def asks_each_definition(ask: Ask) -> bool:
    """"Who owns which job?", "which teams get alerts from any of the jobs?"."""
    concepts = asked_concepts(ask.tokens)
    return bool(concepts) and concepts[0].name in ("owner", "alert", "timezone") \
        and EVERY_JOB.search(ask.text) is not None


async def count_runs(ask: Ask) -> Reply:
    """Runs of every job the asker may see, in the period asked or all that are stored,
    counted by how the watcher judged them; "days" counts the days the runs fell on."""
    jobs, judged = await _judged(ask)
    asked = set(ask.tokens)
    failures = bool(FAIL_WORDS & asked)
    chosen = [j for j in judged if j.bad] if failures else \
        [j for j in judged if j.good] if GOOD_WORDS & asked else judged
    label = ask.period.label if ask.period else _since(judged, ask)
    counted = COUNTED.search(ask.text)
    if counted and counted["noun"] in DAY_NOUNS:
        text = _days(ask, chosen, jobs, label, failures)
    else:
        text = _runs(ask, chosen, judged, jobs, label, failures)
    return Reply(text, cards.text_card("Runs of every job", text))


async def failed_in_period(ask: Ask) -> list[Job]:
    """The jobs with a run that failed in the period asked about ("who owns the job that
    failed yesterday afternoon?"); those whose run did not go well otherwise, when none did."""
    jobs, judged = await _judged(ask)
    failed = [j for j in judged if j.state == "failed"] or [j for j in judged if j.bad]
    return [jobs[job_id] for job_id in dict.fromkeys(j.run.job_id for j in failed)]


async def _judged(ask: Ask) -> tuple[dict[int, Job], list[JudgedRun]]:
    """Every visible job by id, and their runs in the period asked about (all stored, without
    one) as the watcher judges them, newest first by job."""
    jobs = {job.id or 0: job for job in await ask.visible_jobs()}
    since, until = (ask.period.start, min(ask.period.end, ask.now)) if ask.period else (EPOCH, ask.now)
    seen = await job_state.revisions(job_ids=list(jobs), session=ask.session)
    found = await queries.runs_of_jobs(list(jobs), since=since, until=until, limit=MAX_RUNS,
                                       session=ask.session)
    runs = [run for of_job in found.values() for run in of_job]
    judged = await judge_runs(jobs, ask.period.chosen(runs) if ask.period else runs, seen,
                              session=ask.session, stored=ask.state.keep)
    return jobs, judged


def _runs(ask: Ask, chosen: list[JudgedRun], judged: list[JudgedRun], jobs: dict[int, Job],
          label: str, failures: bool) -> str:
    states = Counter(state_word(j.state) for j in chosen)
    what = listing([f"{n} {state}" for state, n in states.most_common()]) or \
        ("none failed" if failures else "none")
    first = f"{len(chosen)} of {len(judged)} runs of your {len(jobs)} jobs {label}: {what}."
    if not failures and len(chosen) == len(judged):
        first = f"{len(judged)} runs of your {len(jobs)} jobs {label}: {what}."
    by_job: dict[int, list[JudgedRun]] = {}
    for one in chosen:
        by_job.setdefault(one.run.job_id, []).append(one)
    lines = [f"{jobs[job_id].title}: " + listing([
        f"{state_word(j.state)} {_at(j, ask)}" for j in reversed(runs[:5])])
        + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
        for job_id, runs in sorted(by_job.items(), key=lambda item: -len(item[1]))]
    return first + "".join(f"\n- {line}" for line in lines[:10])


def _days(ask: Ask, chosen: list[JudgedRun], jobs: dict[int, Job], label: str,
          failures: bool) -> str:
    days: dict[date, list[str]] = {}
    for one in sorted(chosen, key=lambda j: j.run.started_at):
        titles = days.setdefault(one.run.started_at.astimezone(ask.zone).date(), [])
        said = jobs[one.run.job_id].title + ("" if one.state == "failed" or not failures
                                             else f" ({state_word(one.state)})")
        if said not in titles:
            titles.append(said)
    what = "a job failed or did not finish well" if failures else "jobs ran"
    first = f"On {len(days)} day{'s' if len(days) != 1 else ''} {label} {what}"
    if not days:
        return capital(f"{first}.") if failures else f"No job ran {label}."
    return f"{first}: " + listing([f"{day_name(day, ask.today)} ({listing(titles)})"
                                   for day, titles in days.items()]) + "."


def _since(judged: list[JudgedRun], ask: Ask) -> str:
    if not judged:
        return "so far"
    first = min(j.run.started_at for j in judged).astimezone(ask.zone)
    return f"since {first:%a} {first.day} {first:%b} (all stored)"


def _at(one: JudgedRun, ask: Ask) -> str:
    """"at 17:05" within a day asked about; "today at 04:00", "Wed 18 Nov at 04:02" else."""
    local = one.run.started_at.astimezone(ask.zone)
    if ask.period is not None and len(ask.period.days) == 1:
        return f"at {clock_time(local)}"
    return f"{day_name(local.date(), ask.today)} at {clock_time(local)}"


async def each_definition(ask: Ask) -> Reply:
    """The owner, alert channels or time zone of every job the asker may see."""
    concept = asked_concepts(ask.tokens)[0].name
    jobs = await ask.visible_jobs()
    values = {job.title: _definition(job, concept) for job in jobs}
    known = {title: value for title, value in values.items() if value}
    unknown = [title for title, value in values.items() if not value]
    noun = {"owner": "owners", "alert": "alert channels", "timezone": "time zones"}[concept]
    first = f"The {noun} of your {len(jobs)} jobs, from their definitions"
    if concept == "alert":
        channels = list(dict.fromkeys(channel for job in jobs for channel in job.alert))
        first = f"Alerts of your {len(jobs)} jobs go to {listing(channels) or 'no channel'}"
    text = first + "." + "".join(f"\n- {title}: {value}" for title, value in known.items())
    if unknown:
        text += f"\n- None set for {listing(unknown)} (`{concept}` in the job definition)"
    return Reply(text, cards.text_card(capital(noun), text))


def _definition(job: Job, concept: str) -> str:
    if concept == "owner":
        return job.owner or ""
    if concept == "alert":
        return ", ".join(job.alert)
    return job.timezone or ""


def person_asked(ask: Ask, jobs: list[Job]) -> str | None:
    """The owner a question names as a person, asking about the jobs they own ("does Dana
    own more than one job?", "which jobs does Katrin own?")."""
    concepts = asked_concepts(ask.tokens)
    if not concepts or concepts[0].name != "owner" or not (
            "jobs" in ask.tokens or MORE_THAN_ONE.search(ask.text) or
            re.search(r"\b(?:which|what|how many) jobs?\b", ask.text)):
        return None  # "is Dana the owner of the customs job?" asks about that job
    asked = set(ask.tokens)
    for job in jobs:
        person = person_of(job.owner)
        if person and asked & set(person.lower().split()):
            return person
    return None


async def owned_by(ask: Ask, person: str) -> Reply:
    jobs = [job for job in await ask.visible_jobs() if person_of(job.owner) == person]
    titles = listing([job.title for job in jobs])
    text = f"{person} owns {len(jobs)} job{'s' if len(jobs) != 1 else ''}: {titles} (from the " \
           f"job definitions)."
    if ask.yes_no_question and MORE_THAN_ONE.search(ask.text):
        text = f"Yes — {text}" if len(jobs) > 1 else \
            f"No — {person} owns only {titles} (from the job definitions)."
    return Reply(text, cards.text_card(person, text))
