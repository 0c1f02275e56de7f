"""The question-answering engine: plain Python that knows nothing of Teams. The bot and
`opentrace ask` both call `Answerer.reply` and send exactly what it returns."""

import itertools
import logging
import re
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.audience import EVERYONE, Viewer
from alerts.wording import listing
from bot import (
    all_jobs,
    cards,
    comparisons,
    details,
    handlers,
    logged,
    milestone_answers,
    progress_history,
    run_lists,
    two_jobs,
)
from bot.answer_state import AnswerState, judge_pending
from bot.clarify import content_words
from bot.facts import Reply
from bot.handlers import CAUSE_WORDS
from bot.intents import INTENTS, classify
from bot.jobfinder import (
    GENERIC,
    PHRASE_SCORE,
    WEAK_WORD_SCORE,
    WORD_SCORE,
    Candidate,
    JobIndex,
    pick,
)
from bot.language import PLAIN_WORDS, correct, normalize, stem, words
from bot.periods import TIME_WORDS, find_period
from bot.question_words import STOP as STOP_WORDS
from bot.question_words import described_words
from bot.registry import HANDLERS
from bot.stored import VERSIONS, asked_concepts, expected_milestones, phrased_concepts
from bot.zones import asked_zone
from storage import queries
from storage.audit import record_change
from storage.clock import Clock
from storage.history import last_run_field_names, last_run_metric_names
from storage.models import Job

log = logging.getLogger(__name__)
# A job named by its state: "the running job", "the job that failed this morning".
BY_STATE = re.compile(r"\bthe (?:only |one )?(?:(?P<running>running|active) (?:job|one)|job "
                      r"(?:(?:that|which) is |thats )?(?P<running_too>running|active)|"
                      r"(?:failed|broken|failing) (?:job|one)|job (?:that|which) "
                      r"(?:failed|broke|is broken|is failing))\b")
BAD_STATES = frozenset({"failed", "partial", "ended_early", "cancelled", "unusual"})
# A number written in a question that is no date or time: "using the usual 104 weeks?"
STORED_NUMBER = re.compile(r"(?<![\d.:/])\d{3,}(?![\d.:/]|\s?(?:am|pm|uhr))")
# Words of asking why a run failed: not words of what it logged.
FAILURE_TALK = frozenset({"problem", "problems", "issue", "issues", "error", "errors", "wrong",
                          "happened", "happen", "went", "broke", "broken", "failure", "failures",
                          "fail", "failed", "stop", "stopped", "crash", "crashed", "point", "some",
                          "warning", "warnings", "cause", "reason", "why", "warum", "missing",
                          "logged", "log", "anything", "something"})
# A rerun named as the thing asked about: "did the audit rerun on the 18th have any problems?"
RERUN_NAMED = re.compile(r"\b(?:the|that|its) (?:\w+ ){0,3}(?:rerun|re run|retry|second run)\b")
# A job named by what it does: "the job that reads the freighthub file", "the one which loads…".
BY_WHAT_IT_DOES = re.compile(r"\b(?:job|one|process|pipeline)s? (?:that|which|who) (?!is |failed|"
                             r"broke|is failing)\w+")
# Intents answered from one run's facts: that run may be named by what it logged.
RUN_FACT_INTENTS = frozenset({"metric", "duration", "detail", "output", "input"})
# Two questions joined by "and": each begins with a question word of its own.
_ASKING = r"(?:which|what|what's|whats|who|who's|whos|when|where|how)"
TWO_QUESTIONS = re.compile(rf"^(?P<lead>.*?)(?P<first>\b{_ASKING}\b.+?)(?:,? and|\?|;) +"
                           rf"(?P<second>{_ASKING}\b.+)$", re.IGNORECASE)
OVERVIEW = next(intent for intent in INTENTS if intent.name == "overview")
METRIC = next(intent for intent in INTENTS if intent.name == "metric")
RUNS = next(intent for intent in INTENTS if intent.name == "runs")
COUNTING = re.compile(r"(?:how many|how often|wie viele|wie oft)\b")
MEMORY_SIZE = 1000
# Words people use in questions, so that typos of them can be corrected.
COMMON_WORDS = ("run", "running", "finished", "finish", "done", "failed", "fail", "happened",
                "skipped", "processed", "matched", "rows", "products", "records", "files",
                "still", "today", "import", "export", "report", "usually", "normal", "status",
                "everything", "anything", "broken", "late", "milestone", "stopped", "produce",
                "produced", "read", "file", "long", "take", "many", "much", "yesterday", "night",
                "lower", "higher", "faster", "slower", "fewer", "batch", "bigger", "smaller",
                "longer", "shorter", "check", "checked", "found", "later", "earlier", "lange",
                "dauert", "gedauert", "normalerweise", "gestern", "heute", "wann", "welche",
                # superlatives are words, not typos of comparatives ("shortest" is not "shorter")
                "shortest", "longest", "fastest", "slowest", "quickest", "highest", "lowest",
                "biggest", "smallest", "largest", "fewest", "least", "most", "best", "worst")
# Words that ask how a run went; a question with none of them that fits no intent may ask for a
# stored fact ("ACE batch id from friday?") or for something not stored ("cpu usage?").
WARNING_WORDS = frozenset({"warning", "warnings", "warned", "warnung", "warnungen"})
# Verbs of a job doing its work ("did it send anything?"): words of how a run went, but also
# the words of milestones ("report-published") that name the job that reaches them.
DONE_VERBS = frozenset({"send", "sent", "deliver", "delivered", "upload", "uploaded", "submit",
                        "submitted", "publish", "published", "produce", "produced"})
STATUS_WORDS = frozenset({
    "run", "ran", "runs", "finish", "finished", "done", "complete", "completed", "running",
    "status", "ok", "okay", "succeed", "succeeded", "work", "worked", "happen", "happened",
    "going", "gone", "went", "started", "start", "through", "over", "fine", "good", "well",
    "alright", "fail", "failed", "geklappt", "gelaufen", "fertig", "durch", "erfolgreich",
    "pending", "still", "yet", "go", "up", "there", "ready", "arrived", "green", "red", "hit",
    "reach", "reached", "make", "made", "get", "got", "look", "looking", "looks", "healthy",
    "health", "doing", "stuck", "hanging", "hung", "shape", "broken", "broke", "alive",
    "correct", "accurate", "reliable", "trust", "events", "activity", "heard", "signal",
    "sign", "signs", "heartbeat"}) | DONE_VERBS
# Words that say how or when a job runs, not which: "the weekly report" may be our report.
NOT_A_NAME = frozenset({
    "weekly", "daily", "hourly", "monthly", "nightly", "yearly", "main", "big", "usual",
    "regular", "scheduled", "manual", "new", "old", "whole", "full", "next", "first", "second",
    "latest", "recent", "current", "morning", "evening", "night", "other", "same", "small",
    "moment", "time", "minute", "end", "rest", "way", "one", "both", "all", "each", "every",
    "root", "cause", "reason", "mess", "problem", "issue", "only", "single", "midnight", "noon",
    "midday", "afternoon", "early", "late", "overnight"})
JOB_NOUNS = frozenset({"import", "export", "upload", "download", "sync", "load", "job", "feed",
                       "extract", "batch", "pipeline", "transfer", "interface", "schnittstelle",
                       "report", "run", "process", "prozess", "lauf"})
JOB_WORDS = re.compile(r"\b(run|ran|finish|finished|done|complete|completed|running|status|ok|okay"
                       r"|succeed|succeeded|work|worked|happen|happened|today|night|yesterday)\b")


class Answerer:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, default_timezone: str = "UTC",
                 keep_state: bool = True) -> None:
        """`keep_state` False: every answer reads and judges afresh, nothing kept between
        questions (`bot.answer_state`) — to compare."""
        self._engine = engine
        self._clock = clock
        self._default_zone = ZoneInfo(default_timezone)
        # The last question about a job per conversation, for follow-ups like "is that normal?".
        self._memory: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._known: KnownJobs | None = None
        self._state = AnswerState(keep=keep_state)  # what answers keep between questions
        self._asked = itertools.count()  # names a conversation of its own for two questions in one

    async def reply(self, question: str, *, timezone: str | None = None,
                    conversation: str | None = None, viewer: Viewer = EVERYONE) -> Reply:
        """Answer one question. `timezone` is the asker's IANA zone when known (Teams sends
        it with every message); `viewer` is where it is asked, which decides the jobs the
        answer may know of. Never raises for anything a user can type."""
        try:
            if (parts := two_questions(question)) and not _about_every_job(parts[0]):
                return await self._both(parts, _zone(timezone), conversation, viewer)
            return await self._reply(question, _zone(timezone), conversation, viewer)
        except Exception:
            log.exception("could not answer %r", question)
            text = "Sorry — I could not answer that just now. Try again, or ask 'help'."
            return Reply(text, cards.text_card("Something went wrong", text))

    async def _both(self, parts: tuple[str, str], asker_zone: ZoneInfo | None,
                    conversation: str | None, viewer: Viewer) -> Reply:
        """Two questions in one ("which batch went in and which file came out?"), each
        answered in turn; the second may say "it" of the first's job."""
        own = conversation or f"two questions {next(self._asked)}"
        first = await self._reply(parts[0], asker_zone, own, viewer)
        second = await self._reply(parts[1], asker_zone, own, viewer)
        if conversation is None:
            self._memory.pop(own, None)
        return Reply(f"{first.text}\n\n{second.text}", cards.stacked(
            [card for card in (first.card, second.card) if card is not None]))

    async def judge_pending(self) -> int:
        """Judge and store, once for every replica, each finished run not judged yet, so that
        no question has to (run counts over a year judge hundreds of runs)."""
        return await judge_pending(self._engine) if self._state.keep else 0

    async def _reply(self, question: str, asker_zone: ZoneInfo | None,
                     conversation: str | None, viewer: Viewer) -> Reply:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            known = await self._jobs(session)
            index = known.seen_by(viewer)
            jobs = index.jobs
            # Words of jobs hidden from this viewer are words nobody here knows: a typo is
            # not corrected towards them, and a name of one reads as unknown.
            vocabulary = known.vocabulary if index is known.index else \
                known.vocabulary - (known.index.words - index.words)
            text = " ".join(correct(words(normalize(question)), vocabulary))
            if not text:
                return await handlers.help_reply(self._ask(text, None, None, session, viewer,
                                                           question=question))
            named_zone = asked_zone(text)  # "what time does it run in New York time"
            asker_zone = named_zone or asker_zone
            candidates = index.rank(text, words(text))
            if not candidates and index is not known.index:
                await self._refused(known.index.rank(text, words(text)), question, viewer, session)
            if not candidates and classify(text, names_a_job=False).about_a_job:
                candidates = known_by_what_they_hold(text, known.holders, index.jobs)
            if not candidates and BY_WHAT_IT_DOES.search(text):  # "the job that reads the freighthub file"
                candidates = known_by_what_they_hold(text, known.described, index.jobs)
            if not candidates and (state := BY_STATE.search(text)):  # "the running job"
                candidates = await self._in_state(state, text, asker_zone, session, viewer)
            if candidates and candidates[0].score <= WORD_SCORE and \
                    classify(text, names_a_job=False).name == "overview":
                candidates = []  # "anything i need to worry about? quick check": all jobs
            intent = classify(text, names_a_job=bool(candidates))
            if intent.name == "runs" and not candidates and find_period(text, self._clock(),
                                                                        self._default_zone):
                intent = OVERVIEW  # "failed runs this week": all jobs
            if intent.name == "failure" and not candidates and CAUSE_WORDS & set(text.split()):
                intent = OVERVIEW  # "what's the root cause of this morning's mess?": every job
            if not candidates:  # "how many runs failed altogether?", "who owns which job?"
                every = self._ask(text, None, asker_zone, session, viewer, question=question)
                if all_jobs.asks_a_count(every):
                    return await all_jobs.count_runs(every)
                if all_jobs.asks_each_definition(every):
                    return await all_jobs.each_definition(every)
            if not intent.about_a_job and not candidates:
                return await HANDLERS[intent.name](
                    self._ask(text, None, asker_zone, session, viewer, question=question))
            if intent.name == "status" and not candidates and not JOB_WORDS.search(text):
                if not jobs:  # nothing to name yet: say how jobs get here
                    return await handlers.no_jobs(self._ask(text, None, asker_zone, session, viewer))
                return not_understood(jobs, about_a_run=False)
            if not candidates and intent.name == "metric":
                candidates = await jobs_reporting(text, jobs, session)
            remembered = self._memory.get(conversation or "") if not candidates else None
            earlier = None
            if remembered:  # a follow-up ("is that normal?"): the job of the question before
                slug, earlier = remembered
                candidates = [Candidate(j, 1) for j in jobs if j.slug == slug]
                intent = classify(text, names_a_job=True)
            if candidates and candidates[0].score < PHRASE_SCORE and \
                    (name := unknown_job(text, vocabulary)):
                return not_known(name, jobs)  # "the payroll export": a name, not our export
            if (pair := _two_named(candidates)) and two_jobs.asks_about_two(text):
                both = self._ask(text, pair[0], asker_zone or _zone(pair[0].timezone), session,
                                 viewer, question=question)
                if paired := await two_jobs.two_jobs_reply(both, pair[1], index):
                    return paired  # "did the rate import finish before the audit started?"
            job, tied = pick(candidates)
            if len(tied) > 1:  # "overcharge disputes to carriers": the job that holds them
                held = known_by_what_they_hold(text, known.holders, index.jobs, besides=index.words)
                if not held or held[0].job not in tied:
                    return which_one(tied, question)
                job = held[0].job
            if job is None and (name := unknown_name(text, vocabulary)):
                return not_known(name, jobs)
            if job is None:
                if not jobs:
                    return await handlers.no_jobs(self._ask(text, None, asker_zone, session, viewer))
                if len(jobs) > 1:
                    return not_understood(jobs, about_a_run=True, question=question)
                job = jobs[0]
            self._remember(conversation, job.slug, f"{earlier} {text}" if earlier else text)
            zone = asker_zone or _zone(job.timezone) or self._default_zone
            ask = self._ask(text, job, zone, session, viewer, earlier=earlier, question=question)
            if ask.period is not None and (weekly := await logged.run_named_by_week(ask)):
                ask = replace(ask, run=weekly, period=None)  # "the week 46 scorecard"
            if two_jobs.ANYTHING_ELSE.search(text) and \
                    (knock_on := await two_jobs.downstream_reply(ask, index)):
                return knock_on  # "did the rate import problem break anything else?"
            if person := all_jobs.person_asked(ask, jobs):
                return await all_jobs.owned_by(ask, person)  # "does Dana own more than one job?"
            if intent.name == "status" and ask.period is not None and len(ask.period.days) > 1 and \
                    classify(text, names_a_job=False).name == "overview":
                return await run_lists.job_problems(ask)  # "anything off with it this week?"
            if intent.name == "failure" and ask.period is None and content_words(ask) - FAILURE_TALK and \
                    (found := await logged.logged_reply(ask)):
                return found  # "was there a problem with Baltic Express rates at some point?"
            if intent.name == "failure" and COUNTING.match(text) and not await names_a_metric_whole(ask):
                intent = RUNS  # "how many rate imports logged a warning": runs counted
            if intent.name == "failure" and not CAUSE_WORDS & set(ask.tokens) and \
                    await names_a_metric_whole(ask):
                intent = METRIC  # "api errors in last night's sync?": the metric api_errors
            if comparisons.USUAL_WORDS & set(ask.tokens) and asked_concepts(ask.tokens) and \
                    intent.name in ("detail", "status") and (usual := await comparisons.as_usual(ask)):
                return usual  # "is today's forecast running on its usual box?"
            if comparisons.SAME_WORDS & set(ask.tokens) and asked_concepts(ask.tokens) and (
                    same := await comparisons.same_on_both_sides(ask)):
                return same  # "was it on the same version yesterday and last night?"
            if intent.name == "compare" and (comparisons.sides(ask) is None or asked_concepts(ask.tokens)):
                intent = classify(text, names_a_job=True, besides="compare")
            if progress_history.asks_progress_history(ask) and \
                    (progressed := await progress_history.progress_history_reply(ask)):
                return progressed  # "how many warehouses had it done by 8 o'clock?"
            if intent.name in RUN_FACT_INTENTS and (named := await logged.run_named_by_log(
                    ask, vocabulary | FAILURE_TALK, known.reported_by(job))):
                ask = replace(ask, run=named)  # "how long did it take the night with the HTS rejects"
            if intent.name in ("metric", "status", "detail", "duration", "runs") and \
                    comparisons.wants_over_period(ask, intent.name) and \
                    (whole := await comparisons.over_period(ask)):
                return whole  # "total shipments updated yesterday", "longest run this month"
            if ask.period is not None and ask.run is None and RERUN_NAMED.search(text) and \
                    (rerun := await run_lists.rerun_in(ask)):
                ask = replace(ask, run=rerun)  # "did the audit rerun on the 18th have any problems?"
            elif intent.name in ("status", "failure") and ask.period is not None and \
                    run_lists.RERUN_WORDS & set(ask.tokens):
                return await run_lists.runs(ask)  # "after it failed on the 18th, did anyone rerun it?"
            if intent.name in ("status", "failure") and ask.period is not None and \
                    len(ask.period.days) > 2 and not ask.period.label.endswith("night") and \
                    not CAUSE_WORDS & set(ask.tokens) and \
                    (handlers.FAILURE_WORDS | WARNING_WORDS) & set(ask.tokens):
                return await run_lists.runs(ask)  # "has it failed at all this month?": its runs
            if intent.name == "status" and (not STATUS_WORDS & set(ask.tokens)
                                            or phrased_concepts(ask.tokens)
                                            or bool(VERSIONS.search(question))
                                            or bool(STORED_NUMBER.search(question) and content_words(ask))):
                return await details.detail(ask)  # a stored fact, or "not sure" with readings
            if intent.name == "status" and ask.run is None and await run_lists.several_in_the_day(ask):
                return await run_lists.day_of_runs(ask)  # "did all six syncs go through on the 20th?"
            if intent.name == "status" and (about := await milestone_answers.milestone_reply(ask)):
                return about  # "did it get past loading invoices?": that milestone first
            return await HANDLERS[intent.name](ask)

    async def _in_state(self, found: re.Match[str], text: str, zone: ZoneInfo | None,
                        session: AsyncSession, viewer: Viewer) -> list[Candidate]:
        """The one job in the state the question names it by ("which box is the running job
        on", "who owns the job that failed this morning"), or none when several are."""
        every = self._ask(text, None, zone, session, viewer)
        running, failed = bool(found["running"] or found["running_too"]), "fail" in found.group()
        if failed and every.period is not None:  # "the job that failed yesterday afternoon"
            troubled = await all_jobs.failed_in_period(every)
            return [Candidate(troubled[0], WORD_SCORE)] if len(troubled) == 1 else []
        lines = await handlers.job_lines(every)
        wanted = {"running"} if running else {"failed"} if failed else BAD_STATES
        chosen = [line.job for line in lines if line.state in wanted]
        jobs = [job for job in (self._known.index.jobs if self._known else []) if job.slug in chosen]
        return [Candidate(jobs[0], WORD_SCORE)] if len(jobs) == 1 else []

    async def _jobs(self, session: AsyncSession) -> "KnownJobs":
        """The jobs, their name index and the words worth correcting typos towards — built
        again only when the job list changed (one cheap query per question tells)."""
        signature = await queries.jobs_signature(session=session)
        if self._known is None or self._known.signature != signature:
            jobs = list(await queries.all_jobs(session=session))
            index = JobIndex(jobs)
            fields = await last_run_field_names(session=session)
            stored = {w for names in fields.values() for name in names
                      for w in re.split(r"[^a-z0-9]+", name.lower()) if len(w) > 2}
            vocabulary = set(TIME_WORDS) | set(COMMON_WORDS) | _intent_words() | index.words | stored
            described = _described(jobs)
            self._known = KnownJobs(signature, index, vocabulary | set(described), {},
                                    _holders(jobs, fields), described)
        return self._known

    async def _refused(self, hidden: list[Candidate], question: str, viewer: Viewer,
                       session: AsyncSession) -> None:
        """The question names a job this conversation may not see: answered as if the job
        did not exist, and kept in the audit log."""
        if not hidden or viewer.identity is None:
            return
        record_change("audience.refused", actor=viewer.identity, target=hidden[0].job.slug,
                      origin=viewer.origin or "", at=self._clock(),
                      details={"question": question[:500]}, session=session)
        await session.commit()

    def _ask(self, text: str, job: Job | None, zone: ZoneInfo | None, session: AsyncSession,
             viewer: Viewer = EVERYONE, *, earlier: str | None = None,
             question: str = "") -> handlers.Ask:
        """`earlier` is the question a follow-up refers to: its words still count (which
        metric), and its period holds unless the follow-up names another."""
        now = self._clock()
        zone = zone or self._default_zone
        period = find_period(text, now, zone)
        if period is None and earlier:
            period = find_period(earlier, now, zone)
        context = f"{earlier} {text}" if earlier else text
        return handlers.Ask(text=text, tokens=words(context), now=now, zone=zone, period=period,
                           job=job, session=session, viewer=viewer, question=question,
                           state=self._state, known=self._known.index.jobs if self._known else None,
                           zone_asked=asked_zone(text) is not None)

    def _remember(self, conversation: str | None, slug: str, text: str) -> None:
        if conversation is None:
            return
        self._memory[conversation] = (slug, text)
        self._memory.move_to_end(conversation)
        while len(self._memory) > MEMORY_SIZE:
            self._memory.popitem(last=False)


def _two_named(candidates: list[Candidate]) -> tuple[Job, Job] | None:
    """The two jobs a question names by a whole name each ("the rate import … the audit")."""
    strong = [c for c in candidates if c.score >= PHRASE_SCORE]
    return (strong[0].job, strong[1].job) if len(strong) >= 2 and strong[0].job.id != strong[1].job.id \
        else None


def two_questions(question: str) -> tuple[str, str] | None:
    """The two questions of "monday's audit: which batch went in and which file came out?"
    or "what's running and who owns it?": the second asked with the words before the first's
    question word ("monday's audit:"), which name what both are about."""
    found = TWO_QUESTIONS.match(question.strip())
    if found is None:
        return None
    lead, first, second = found["lead"].strip(), found["first"].strip(), found["second"].strip()
    # After the question: "which batch went in, monday's audit" still begins as it asks.
    shared = lead.rstrip(":,-– ") if re.search(r"[:,\-–]$", lead) else ""
    return f"{first} {shared}".strip(), f"{second.rstrip('?')} {shared}".strip()


def _about_every_job(question: str) -> bool:
    """"What's broken": an overview, whose answer already says whom to talk to."""
    return classify(" ".join(words(normalize(question))), names_a_job=False).name in ("overview", "jobs")


async def jobs_reporting(text: str, jobs: list[Job], session: AsyncSession) -> list[Candidate]:
    """Jobs whose metrics the question names best, when it names no job."""
    by_id = {job.id: job for job in jobs}
    asked = {stem(w) for w in words(text)} - {stem(w) for w in GENERIC}
    found = []
    for job_id, names in (await last_run_metric_names(session=session)).items():
        overlap = max(len(asked & {stem(w) for w in re.split(r"[-_. ]+", n)}) for n in names)
        if overlap and job_id in by_id:
            found.append(Candidate(by_id[job_id], overlap))
    return sorted(found, key=lambda c: -c.score)


async def names_a_metric_whole(ask: handlers.Ask) -> bool:
    """Every word of one of the job's metric names is in the question."""
    assert ask.job is not None
    names = (await last_run_metric_names(session=ask.session)).get(ask.job.id or 0, set())
    asked = {stem(t) for t in ask.tokens}
    return any(len(parts) > 1 and parts <= asked
               for parts in ({stem(w) for w in re.split(r"[-_. ]+", n.lower()) if w} for n in names))


def _holders(jobs: list[Job], fields: dict[int, set[str]]) -> dict[str, set[int]]:
    """Each word of what a job reports or expects ("disputes-filed", "lane_rates") → the jobs."""
    found: dict[str, set[int]] = {}
    for job in jobs:
        names = set(fields.get(job.id or 0, set())) | set(expected_milestones(job))
        for name in names:
            for word in re.split(r"[^a-z0-9]+", name.lower()):
                if len(word) > 3 and not word.isdigit() and word not in GENERIC:
                    found.setdefault(stem(word), set()).add(job.id or 0)
    return found


def _described(jobs: list[Job]) -> dict[str, set[int]]:
    """Each telling word of the jobs' descriptions ("freighthub") → the jobs whose own
    description holds it, for "the job that reads the freighthub file"."""
    found: dict[str, set[int]] = {}
    for job in jobs:
        for word in described_words(job):
            if len(word) >= 5 and word not in PLAIN_WORDS and word not in GENERIC:
                found.setdefault(stem(word), set()).add(job.id or 0)
    return found


# Words of asking, not of a job's reports ("status update pls" names no "shipments_updated").
ASKING_WORDS = (STATUS_WORDS - DONE_VERBS) | set(COMMON_WORDS) | {
    "update", "updates", "updated", "report", "reports", "status", "check", "news", "info"}


def known_by_what_they_hold(text: str, holders: dict[str, set[int]], jobs: list[Job], *,
                            besides: Collection[str] = ()) -> list[Candidate]:
    """The job a question names by what it produces or reads ("the disputes excel"): a word
    of its reports that no other job's reports hold, and not a word of a job's name
    (`besides`): those were weighed already."""
    visible = {job.id: job for job in jobs}
    hits: dict[int, int] = {}
    for word in set(text.split()):
        if word in STOP_WORDS or word in PLAIN_WORDS or word in ASKING_WORDS or len(word) < 4 \
                or word in besides:
            continue
        owners = holders.get(stem(word), set()) & set(visible)
        if len(owners) == 1:
            job_id = next(iter(owners))
            hits[job_id] = hits.get(job_id, 0) + 1
    ranked = sorted(hits.items(), key=lambda item: -item[1])
    if not ranked or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return []
    return [Candidate(visible[ranked[0][0]], WEAK_WORD_SCORE)]


def unknown_job(text: str, vocabulary: set[str]) -> str | None:
    """A job named by a word nobody uses for ours, before a word for a job: "did the payroll
    export run?", "hat der SAP upload geklappt?" — not one of our exports or loads."""
    tokens = text.split()
    for before, noun in itertools.pairwise(tokens):
        if noun in JOB_NOUNS and before.isalpha() and len(before) > 2 and _unknown(before, vocabulary):
            return f"{before} {noun}"
    return None


def _unknown(word: str, vocabulary: set[str]) -> bool:
    """A word nobody uses for our jobs: not known, nor another form of a known word ("syncs")."""
    return word not in vocabulary and word not in GENERIC and word not in PLAIN_WORDS \
        and word not in NOT_A_NAME and word not in STOP_WORDS and not JOB_WORDS.fullmatch(word) \
        and word.removesuffix("s") not in vocabulary and stem(word) not in vocabulary


def unknown_name(text: str, vocabulary: set[str]) -> str | None:
    """A word that reads like a job's name but names none: "did the foo run"."""
    for match in re.finditer(r"\bthe ([a-z0-9]+)\b", text):
        word = match.group(1)
        if _unknown(word, vocabulary):
            return word
    return None


def not_known(name: str, jobs: list[Job]) -> Reply:
    known = listing([f"{job.title} ({job.slug})" for job in jobs[:10]])
    text = f"I don't know a job called '{name}'. I know {known}." if jobs else \
        f"I don't know a job called '{name}', and no job has reported to OpenTrace yet."
    return Reply(text, cards.text_card("Unknown job", text))


@dataclass(frozen=True)
class KnownJobs:
    signature: tuple[object, ...]
    index: JobIndex
    vocabulary: set[str]
    # Name indexes of the jobs a viewer may see, by the ids they hold (few distinct sets).
    subsets: dict[tuple[int | None, ...], JobIndex]
    # Jobs by the words of what they report and produce (milestones, metrics, payloads).
    holders: dict[str, set[int]]
    # Jobs by the words of their descriptions ("freighthub"), for "the job that reads …".
    described: dict[str, set[int]]

    def reported_by(self, job: Job) -> set[str]:
        """The stems of the words of what `job` reports or expects."""
        return {word for word, holders in self.holders.items() if job.id in holders}

    def seen_by(self, viewer: Viewer) -> JobIndex:
        visible = viewer.visible(self.index.jobs)
        if len(visible) == len(self.index.jobs):
            return self.index
        key = tuple(job.id for job in visible)
        if key not in self.subsets:
            if len(self.subsets) > 100:
                self.subsets.clear()
            self.subsets[key] = JobIndex(visible)
        return self.subsets[key]


def which_one(tied: list[Job], question: str) -> Reply:
    """Several jobs fit the name alike: ask, with the question about each as a button."""
    options = listing([f"{job.title} ({job.slug})" for job in tied])
    text = f"I'm not sure which one you mean: {options}? Ask again with its name."
    return Reply(text, cards.choices_card("Which job?", text, _about_each(question, tied)))


def not_understood(jobs: list[Job], *, about_a_run: bool, question: str = "") -> Reply:
    known = listing([f"{job.title} ({job.slug})" for job in jobs[:10]])
    if about_a_run:
        text = f"I'm not sure which job you mean. I know {known}."
        return Reply(text, cards.choices_card("Which job?", text, _about_each(question, jobs)))
    text = (f"I'm not sure what you are asking. I know {known}. Try 'did the import run "
            f"today?', 'anything late?' or 'help'.")
    return Reply(text, cards.text_card("Which job?", text))


def _about_each(question: str, jobs: list[Job]) -> list[str]:
    """The question asked again about each job by its title (a button per job, at most 3)."""
    asked = question.strip().rstrip("?").strip() or "did it run"
    return [f"{asked} — {job.title}?" for job in jobs[:3]]


def _intent_words() -> set[str]:
    """The words the intents' patterns look for ("\\bwhats" is "whats", not "bwhats")."""
    found: set[str] = set()
    for intent in INTENTS:
        for trigger in intent.triggers:
            found.update(re.findall(r"[a-z]{4,}", re.sub(r"\\[a-zA-Z]", " ", trigger)))
    return found


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
