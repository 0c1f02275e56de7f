"""Questions about two jobs at once: which ran first ("did the rate import finish before the
audit started?"), the time between them, whether they ran on the same host or version, and
whether one job's bad run explains another's ("is the audit problem because of the rate
import?", "did the rate import problem break anything else?").

Jobs are linked by what their descriptions say: a description that names another job ("…
into the tariff table used by the freight audit") links the two. No dependency is stored
yet, so an answer about a cause quotes that description and the runs' own words, and says
so when nothing links the jobs."""

import re
from dataclasses import replace
from datetime import datetime, timedelta

from alerts.wording import clock_time, duration, listing, quoted
from bot import cards
from bot.facts import Reply, RunFacts
from bot.handlers import Ask, the_run, unusual_values
from bot.jobfinder import PHRASE_SCORE, JobIndex, job_words
from bot.language import normalize, words
from bot.run_facts import run_facts
from bot.schedule_words import in_words, upcoming
from bot.stored import asked_concepts
from bot.stored import run_facts as stored_facts
from storage import queries
from storage.models import Job

ORDER = re.compile(r"\b(?P<which>before|after|earlier than|later than|vor|nach)\b")
BETWEEN = re.compile(r"\b(?:how (?:long|much time)|time|gap|minutes|hours)\b.*\bbetween\b")
SAME = re.compile(r"\b(?:same|different|identical|gleichen?|selben?)\b")
CAUSE = re.compile(r"\b(?:because|caused|cause|due to|related|connected|linked|fault|schuld|wegen|"
                   r"break|broke|broken|affect|affected|impact|impacted|knock on|downstream)\b")
ANYTHING_ELSE = re.compile(r"\b(?:anything|something|any other jobs?|other jobs?) else\b|"
                           r"\bdownstream\b|\bother jobs\b")
SCHEDULED = re.compile(r"\b(?:is there|are there|does|do|usually|normally|scheduled)\b")
ENDING = frozenset({"finish", "finished", "finishing", "end", "ended", "ending", "done", "fail",
                    "failed", "failing", "stopped", "stop", "complete", "completed"})
STARTING = frozenset({"start", "started", "starting", "began", "begin", "kicked", "kick", "ran",
                      "run", "running"})
BAD_STATES = frozenset({"failed", "partial", "ended_early", "cancelled", "unusual"})


def asks_about_two(text: str) -> bool:
    """Whether a question naming two jobs asks how they relate."""
    return bool(ORDER.search(text) or BETWEEN.search(text) or SAME.search(text) or
                CAUSE.search(text))


async def two_jobs_reply(ask: Ask, other: Job, index: JobIndex) -> Reply | None:
    """`ask` is about its job and names `other` too; the two in the order the question names
    them. None when the question sets no relation the engine can answer."""
    assert ask.job is not None
    first, second = _in_order(ask, ask.job, other)
    one, two = replace(ask, job=first), replace(ask, job=second)
    if SAME.search(ask.text) and (concepts := asked_concepts(ask.tokens)):
        return await _same(one, two, concepts[0].name)
    runs = [await the_run(a) for a in (one, two)]
    if runs[0] is None or runs[1] is None:
        return None
    facts = [await run_facts(a.job, run, a.zone, session=a.session)  # type: ignore[arg-type]
             for a, run in zip((one, two), runs, strict=True)]
    if BETWEEN.search(ask.text):
        if ask.period is None and SCHEDULED.search(ask.text):
            return _between_scheduled(ask, first, second)
        return _between(ask, facts, (first, second))
    if CAUSE.search(ask.text):
        return await _cause(ask, facts, index)
    if ORDER.search(ask.text):
        return _order(ask, facts, (first, second))
    return None


async def downstream_reply(ask: Ask, index: JobIndex) -> Reply | None:
    """"Did the rate import problem break anything else?": the jobs its description (or
    theirs) links it to, and how their runs after its bad run went."""
    assert ask.job is not None
    run = await the_run(ask, prefer_bad=True)
    if run is None:
        return None
    own = await run_facts(ask.job, run, ask.zone, session=ask.session)
    linked = [job for job in index.jobs if job.id != ask.job.id and _linked(ask.job, job, index)]
    if not linked:
        text = (f"I can't tell: no other job is linked to {ask.job.title} (no job's description "
                f"names another), so I don't know what depends on it.")
        return Reply(text, cards.text_card(ask.job.title, text))
    hit: list[tuple[Job, RunFacts | None]] = []
    fine: list[tuple[Job, RunFacts | None]] = []
    for job in linked:
        later = [r for r in await queries.list_runs(job, since=run.started_at, until=ask.now,
                                                     limit=5, session=ask.session)]
        judged = [await run_facts(job, r, ask.zone, session=ask.session) for r in later]
        bad = [f for f in judged if f.state in BAD_STATES]
        (hit if bad else fine).append((job, bad[-1] if bad else None))
    said = _how(own)
    if not hit:
        text = (f"No — after {ask.job.title} {said}, the jobs linked to it ran fine: "
                f"{listing([job.title for job, _ in fine])}.")
    else:
        parts = [f"{job.title} {_how(f)}" for job, f in hit if f is not None]
        text = (f"Yes, likely — after {ask.job.title} {said}, {listing(parts)}. "
                + " ".join(_link_said(ask.job, job, index) for job, _ in hit))
        if fine:
            text += f" Fine since: {listing([job.title for job, _ in fine])}."
    return Reply(text, cards.text_card(ask.job.title, text))


def _in_order(ask: Ask, one: Job, other: Job) -> tuple[Job, Job]:
    tokens = ask.text.split()

    def first_word(job: Job) -> int:
        own = job_words(job)
        return next((i for i, token in enumerate(tokens) if token in own), len(tokens))
    return (one, other) if first_word(one) <= first_word(other) else (other, one)


def _moment(f: RunFacts, starting: bool) -> tuple[str, str]:
    """(what it did, when) — "started", "09:30"; "stopped early", "01:34"."""
    if starting or f.finished_at is None:
        return "started", clock_time(f.started_at)
    return _ended_word(f), clock_time(f.finished_at)


def _ended_word(f: RunFacts) -> str:
    return {"failed": "failed", "ended_early": "stopped early", "partial": "stopped early",
            "cancelled": "was cancelled", "unusual": "finished with values far from usual"
            }.get(f.state, "finished")


def _how(f: RunFacts) -> str:
    """"stopped early at 01:34 (it reported success)", "failed at 04:14: Tariff table …"."""
    if f.finished_at is None:
        return f"is still running (since {clock_time(f.started_at)})"
    said = f" ({f.summary.rstrip('.')})" if f.summary and f.state != "succeeded" else ""
    if f.state in ("ended_early", "partial") and f.status == "succeeded":
        said = " (it reported success)"
    if any(m.unusual for m in f.metrics):  # "with 212 rates parsed (usually 18,187–18,427)"
        said += f" with {listing(unusual_values(f)[:2])}"
    return f"{_ended_word(f)} at {clock_time(f.finished_at)}{said}"


def _verb_after(ask: Ask, job: Job) -> bool:
    """Whether the question says of `job` that it started (else that it ended)."""
    tokens = ask.text.split()
    own = job_words(job)
    at = next((i for i, token in enumerate(tokens) if token in own), None)
    if at is None:
        return False
    after = [t for t in tokens[at + 1:at + 4] if t not in own]
    return bool(STARTING & set(after[:2]))


def _order(ask: Ask, facts: list[RunFacts], jobs: tuple[Job, Job]) -> Reply:
    one, two = facts
    first_did, first_at = _moment(one, _verb_after(ask, jobs[0]))
    second_did, second_at = _moment(two, _verb_after(ask, jobs[1]))
    first_time = _time_of(one, first_did)
    second_time = _time_of(two, second_did)
    found = ORDER.search(ask.text)
    before_asked = found is None or found["which"] in ("before", "earlier than", "vor")
    earlier = first_time < second_time
    yes = earlier if before_asked else not earlier
    gap = duration(abs((second_time - first_time).total_seconds()))
    text = (f"{'Yes' if yes else 'No'} — {one.title} {first_did} at {first_at}, "
            f"{gap} {'before' if earlier else 'after'} {two.title} {second_did} at {second_at}.")
    if one.state in BAD_STATES and first_did == "started":
        text += f" It then {_how(one)}."  # the watcher's word on it, when the order did not say
    return Reply(text, cards.text_card(f"{one.title} and {two.title}", text))


def _time_of(f: RunFacts, did: str) -> datetime:
    return f.started_at if did == "started" or f.finished_at is None else f.finished_at


def _between(ask: Ask, facts: list[RunFacts], jobs: tuple[Job, Job]) -> Reply:
    """The time between the two runs' starts or ends, as the question words each."""
    one, two = facts
    starts = [_verb_after(ask, job) for job in jobs]
    if STARTING & set(ask.tokens) and not ENDING & set(ask.tokens):
        starts = [True, True]  # "between the rate import and the audit starting"
    first_time = one.started_at if starts[0] else one.finished_at or one.started_at
    second_time = two.started_at if starts[1] else two.finished_at or two.started_at
    gap = duration(abs((second_time - first_time).total_seconds()))
    said = [f"started at {clock_time(f.started_at)}" if start else _how(f)
            for f, start in zip(facts, starts, strict=True)]
    text = f"{gap} — {one.title} {said[0]}, and {two.title} {said[1]}."
    return Reply(text, cards.text_card(f"{one.title} and {two.title}", text))


def _between_scheduled(ask: Ask, first: Job, second: Job) -> Reply:
    """"How much time is there between the rate import and the audit starting?": their next
    scheduled starts."""
    coming = [upcoming(job, ask.now, ask.now + timedelta(days=8))[:1] for job in (first, second)]
    if not coming[0] or not coming[1]:
        unscheduled = [job.title for job, found in zip((first, second), coming, strict=True) if not found]
        text = f"I can't tell: {listing(unscheduled)} has no schedule."
        return Reply(text, cards.text_card(f"{first.title} and {second.title}", text))
    nexts = [coming[0][0], coming[1][0]]
    gap = duration(abs((nexts[1] - nexts[0]).total_seconds()))
    at = [clock_time(n.astimezone(ask.zone)) for n in nexts]
    text = (f"{gap} between their scheduled starts — {first.title} at {at[0]}, "
            f"{second.title} at {at[1]} ({in_words(first, ask.now)}; {in_words(second, ask.now)}).")
    return Reply(text, cards.text_card(f"{first.title} and {second.title}", text))


async def _cause(ask: Ask, facts: list[RunFacts], index: JobIndex) -> Reply:
    """Whether one job's bad run may explain the other's: both bad, the earlier one first, and
    a description linking them."""
    one, two = sorted(facts, key=lambda f: f.started_at)
    jobs = {job.slug: job for job in index.jobs}
    upstream, downstream = jobs.get(one.job), jobs.get(two.job)
    linked = upstream is not None and downstream is not None and \
        _linked(upstream, downstream, index)
    if one.state not in BAD_STATES or two.state not in BAD_STATES:
        fine, rest = (one, two) if one.state not in BAD_STATES else (two, one)
        text = (f"No — {fine.title}'s run at {clock_time(fine.started_at)} went fine "
                f"({_how(fine)}), so it does not explain the other: {rest.title} {_how(rest)}.")
    elif linked and upstream is not None and downstream is not None:
        text = (f"Yes, likely — {one.title} {_how(one)}, before {two.title} {_how(two)}. "
                + _link_said(upstream, downstream, index))
    else:
        text = (f"I can't tell: {one.title} {_how(one)} and {two.title} {_how(two)}, but nothing "
                f"links the two jobs (neither's description names the other).")
    return Reply(text, cards.text_card(f"{one.title} and {two.title}", text))


def _linked(one: Job, other: Job, index: JobIndex) -> bool:
    return _names(one, other, index) or _names(other, one, index)


def _names(job: Job, other: Job, index: JobIndex) -> bool:
    """`job`'s description names `other` by a name of it."""
    if not job.description:
        return False
    text = " ".join(words(normalize(job.description)))
    return any(c.job.id == other.id and c.score >= PHRASE_SCORE
               for c in index.rank(text, words(text)))


def _link_said(one: Job, other: Job, index: JobIndex) -> str:
    described = one if _names(one, other, index) else other
    return f"{described.title}'s description says: {quoted((described.description or '').rstrip('.'))}."


async def _same(one: Ask, two: Ask, concept: str) -> Reply:
    """"Does the rate import run on the same server as the audit?": the value each job's
    latest run (or its run in the period) reported."""
    values = []
    for ask in (one, two):
        assert ask.job is not None
        run = await the_run(ask)
        events = list(await queries.run_events(run, session=ask.session)) if run else []
        found = [f.value for f in stored_facts(run, events) if f.concept is not None and
                 f.concept.name == concept] if run else []
        values.append(found[0] if found else None)
    titles = [a.job.title for a in (one, two) if a.job is not None]
    if None in values:
        missing = [t for t, v in zip(titles, values, strict=True) if v is None]
        text = f"I don't know: {listing(missing)} reported no {concept}."
    elif values[0] == values[1]:
        text = f"Yes — both ran on {concept} {values[0]}: {listing(titles)}."
    else:
        text = (f"No — {titles[0]} ran on {concept} {values[0]}, {titles[1]} on {values[1]}.")
    return Reply(text, cards.text_card(listing(titles), text))
