"""Questions about what is stored but is not a run's outcome: who owns a job, which host ran
it, which version, which batch or folder a payload names, when a value first appeared. The
facts come from `bot.stored`; when none holds what was asked, the answer says so and where
it would come from, and a question it cannot place is answered with what it understood and
the closest readings as buttons (`bot.clarify`)."""

import re
from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.wording import capital, day_name, listing, moment
from bot import cards, handlers, logged, milestone_answers
from bot.clarify import content_words, unsure
from bot.facts import Reply
from bot.handlers import Ask
from bot.jobfinder import job_words
from bot.language import correct
from bot.matching import named_all, root
from bot.periods import TIME_WORDS
from bot.question_words import unplaced_head
from bot.stored import (
    VERSIONS,
    Match,
    Stored,
    asked_concepts,
    best_facts,
    definition_facts,
    expected_milestones,
    missing_text,
    run_facts,
)
from storage import queries
from storage.history import successful_history
from storage.models import Event, Job, Run

VALUE_HISTORY = 200  # runs searched for "when did it switch to 0.9.3"
CHANGE_WORDS = {"switch", "switched", "change", "changed", "upgrade", "upgraded", "move", "moved",
                "start", "started", "begin", "began", "first"}


async def detail(ask: Ask) -> Reply:
    """Any stored fact, by its key, its concept or its value."""
    assert ask.job is not None
    job = ask.job
    run, events, facts, matches = await _lookup(ask)
    concepts = asked_concepts(ask.tokens)
    content = content_words(ask)
    if not (matches and matches[0].score >= 3) and (spelled := _spelled_as_stored(ask, content, facts)):
        return await detail(spelled)  # "tariff snapshto from the 20th?": output.snapshot
    if not concepts and (about := await milestone_answers.milestone_reply(ask)):
        return about  # "when did the rates file arrive": 'file-received', not the file's path
    if concepts and matches and matches[0].score < 3:  # "exit code": a finish text that says it
        return _answer(ask, job, run, matches)
    if matches and matches[0].score >= 3:
        if matches[0].score >= 5 and "when" in ask.tokens and CHANGE_WORDS & set(ask.tokens):
            return await _first_with(ask, job, matches[0].fact)
        if matches[0].fact.source == "metric":
            return await handlers.metric(ask)  # a number: with what is usual for it
        head = unplaced_head(ask.text, job, _words_of(matches[0].fact), _words_of(*facts))
        if _which_named_by_a_count(ask, matches[0].fact) or head:
            unplaced = {head} if head else content  # "which python version": not the job's own
            return unsure(ask, unplaced, sorted({f.label for f in facts if f.source != "note"})[:12])
        if matches[0].fact.source in ("start", "payload") and _over_runs(ask, matches[0].fact):
            return await _values_over_runs(ask, job, matches[0].fact)
        return _answer(ask, job, run, matches)
    if not concepts and await _names_a_metric(ask, content):
        return await handlers.metric(ask)  # "the typical mape": reported by runs before this one
    usual = await successful_history(job, before=ask.now, limit=3, session=ask.session)
    milestones = {e.name for e in events if e.kind == "milestone" and e.name} \
        | set(expected_milestones(job)) | set(usual.milestones)
    # "are the rates loaded?": a milestone, so how it went — its words may all be the job's
    # own ("tariff load" names the job and "rates-loaded" the milestone).
    if not concepts and named_all(ask.tokens, sorted(milestones), job_words(job), at_least=2):
        return await milestone_answers.milestone_reply(ask) or await handlers.status(ask)
    if concepts:
        if concepts[0].name != "owner" and run is None:
            return await handlers.no_run(ask)
        text = missing_text(concepts[0], job.title)
        if ask.yes_no_question:
            text = f"No — {text[:1].lower()}{text[1:]}" if not text.startswith("No ") else \
                f"No — {text}"  # "does the sync alert anyone?"
        return Reply(text, cards.text_card(job.title, text))
    if content:
        if found := await logged.logged_reply(ask):
            return found  # "when did the trackhub token expire?": what a run logged
        known = sorted({f.label for f in facts if f.source != "note"})[:12]
        return unsure(ask, content, known)
    return await handlers.status(ask)


async def output_or_fact(ask: Ask) -> Reply:
    """"Which snapshot did it write on the 15th": the field named, when one is; else what the
    run produced."""
    if content_words(ask) and (stored := await stored_answer(ask)) is not None:
        return stored
    return await handlers.outputs(ask)


async def stored_answer(ask: Ask, *, at_least: int = 3) -> Reply | None:
    """The stored fact the question names surely, or None: for questions another reading
    could not place ("how many carriers does the sync cover": a payload's field); never a
    metric."""
    assert ask.job is not None
    run, _, _, matches = await _lookup(ask)
    if matches and matches[0].score >= at_least and matches[0].fact.source != "metric":
        return _answer(ask, ask.job, run, matches)
    return None  # a metric is the metric answer's to give, with its usual values


async def _lookup(ask: Ask) -> tuple[Run | None, list[Event], list[Stored], list[Match]]:
    """The run asked about, its events, what is stored for it, and what the question names."""
    assert ask.job is not None
    run = await handlers.the_run(ask)
    events = list(await queries.run_events(run, session=ask.session)) if run else []
    facts = definition_facts(ask.job) + (run_facts(run, events) if run else [])
    concepts = asked_concepts(ask.tokens)
    # A time word that is part of a field's name counts: "weeks of history" is history_weeks.
    named = {w for fact in facts for w in fact.words}
    content = content_words(ask) | {t for t in ask.tokens if t in TIME_WORDS and root(t) in named}
    matches = best_facts(content, concepts, facts, ask.question)
    if concepts:  # "how big was the file": the file's path is not its size
        matches = [m for m in matches if m.fact.concept in concepts or any(
            c.name.lower() in m.fact.value.lower() for c in concepts)]
    return run, events, facts, matches


async def _names_a_metric(ask: Ask, content: set[str]) -> bool:
    """The question names, by a content word not the job's own, a metric the job's good runs
    report."""
    assert ask.job is not None
    usual = await successful_history(ask.job, before=ask.now, limit=3, session=ask.session)
    return named_all(content, list(usual.metrics), job_words(ask.job)) != []


def _spelled_as_stored(ask: Ask, content: set[str], facts: list[Stored]) -> Ask | None:
    """The question with its typos of the stored facts' words corrected, or None when it has
    none: a key a run reported ("snapshot") may be in no word list the engine corrects by."""
    known = _words_of(*facts)
    # Long words only, and not another form of a stored word: "built" is not "build".
    fixed = {word: close for word in content - known if len(word) >= 6
             if (close := correct([word], known)[0]) != word and root(close) != root(word)}
    if not fixed:
        return None
    text = " ".join(fixed.get(word, word) for word in ask.text.split())
    return replace(ask, text=text, tokens=[fixed.get(word, word) for word in ask.tokens])


def _words_of(*facts: Stored) -> set[str]:
    """Every word of these facts' keys, values and concepts."""
    found: set[str] = set()
    for fact in facts:
        found |= fact.words | set(re.findall(r"[a-z0-9]+", fact.value.lower()))
        if fact.concept is not None:
            found |= set(fact.concept.words) | set(fact.concept.keys)
    return found


def _which_named_by_a_count(ask: Ask, fact: Stored) -> bool:
    """"Which carrier had the most …" asks for a name; a number stored under "carriers" is how
    many there were, not which."""
    first = ask.text.split()[:1]
    if first not in (["which"], ["welcher"], ["welche"], ["welches"]):
        return False
    try:
        float(fact.value.replace(",", ""))
    except ValueError:
        return False
    return True


# Words that ask about a value across runs, not in one: "ever on a different box", "which
# versions lately", "what version before 4.8.0".
ACROSS_RUNS = frozenset({"ever", "lately", "recently", "different", "before", "history", "both",
                         "same",
                         "previously", "previous", "changed", "change", "changes", "other",
                         "various", "over", "jemals", "vorher", "zuletzt", "verschiedene"})
VALUES_OVER = 30  # runs


def _over_runs(ask: Ask, fact: Stored) -> bool:
    """The question asks for a value across runs: by a word for it, or by naming the field in
    the plural ("which versions", "which ports")."""
    if (ACROSS_RUNS & set(ask.tokens)) - fact.words and ask.period is None:
        return True
    written = set(re.split(r"[^a-z0-9]+", fact.key.lower()))  # "history_weeks" is plural itself
    return any(t.endswith("s") and root(t) in fact.words and root(t) != t and t not in written
               for t in ask.tokens)


async def _values_over_runs(ask: Ask, job: Job, fact: Stored) -> Reply:
    """Each value the field had over the job's latest runs, newest first, with when."""
    runs = list(await queries.list_runs(job, until=ask.now, limit=VALUES_OVER, session=ask.session))
    seen: list[tuple[str, list[Run]]] = []
    for run in runs:  # newest first
        value = await _value_of(run, fact, ask.session)
        if value is None:
            continue
        if seen and seen[-1][0] == value:
            seen[-1][1].append(run)
        else:
            seen.append((value, [run]))
    distinct = list(dict.fromkeys(value for value, _ in seen))
    lines = [f"{value}: {_span(ask, spell)}" for value, spell in seen[:12]]
    asks_yes_no = ask.yes_no_question
    counted = f"{len(distinct)} different value{'s' if len(distinct) != 1 else ''}"
    first = (f"{capital(fact.label)} of {job.title} over its last {len(runs)} runs: {counted}"
             f" — {listing(distinct[:6])}.")
    if asks_yes_no:
        same = "same" in ask.tokens  # "did both run on the same host?": yes when one value
        first = f"{'Yes' if (len(distinct) > 1) != same else 'No'} — {first[:1].lower()}{first[1:]}"
    text = first + "\n" + "\n".join(f"- {line}" for line in lines)
    return Reply(text, cards.text_card(job.title, text))


def _span(ask: Ask, runs: list[Run]) -> str:
    """"Fri 20 Nov to Tue 24 Nov (5 runs)" for a spell of runs, newest first."""
    newest, oldest = (r.started_at.astimezone(ask.zone) for r in (runs[0], runs[-1]))
    days = f"{oldest:%a} {oldest.day} {oldest:%b}"
    if newest.date() != oldest.date():
        days += f" – {newest:%a} {newest.day} {newest:%b}"
    return f"{days} ({len(runs)} run{'s' if len(runs) != 1 else ''})"


def _answer(ask: Ask, job: Job, run: Run | None, matches: list[Match]) -> Reply:
    best = matches[0].fact
    if best.source == "definition":
        first = f"{best.value} owns {job.title}." if best.key == "owner" else \
            f"{capital(best.label)} of {job.title}: {best.value}."
    else:
        first = f"{capital(best.label)} of {_run_name(ask, job, run)}: {best.value}."
    first = first.rstrip(".") + f" ({_where(best)})."
    if verdict := _yes_or_no(ask, best):
        first = f"{verdict} — {first[:1].lower()}{first[1:]}" if best.key != "owner" else \
            f"{verdict} — {first}"
    close = [m.fact for m in matches[1:4] if m.score >= matches[0].score / 2 and m.fact != best]
    lines = [f"{capital(f.label)}: {f.value[:200]}" for f in close]
    text = first + ("\n" + "\n".join(f"- {line}" for line in lines) if lines else "")
    return Reply(text, cards.text_card(job.title, text))


def _yes_or_no(ask: Ask, fact: Stored) -> str | None:
    """"Was it started by cron?": Yes when the value holds the word proposed, No when the
    question proposes another one; None for questions that are not yes/no questions."""
    tokens = ask.text.split()
    if not tokens or tokens[0] not in handlers.YES_NO_START:
        return None
    value = {root(w) for w in re.split(r"[^a-z0-9]+", fact.value.lower()) if w}
    value |= {root(w) for w, means in MEANS.items() if means in value}  # "a person": manual
    proposed = {root(w) for w in content_words(ask)} - {root(w) for w in fact.words}
    numbers = re.findall(r"(?<![\d.:/])\d{2,}(?![\d.:/])", ask.question)
    if numbers and re.fullmatch(r"\d[\d,]*(?:\.\d+)?", fact.value):  # "the usual 104 weeks?"
        return "Yes" if fact.value.replace(",", "") in numbers else "No"
    if VERSIONS.search(ask.question):  # "still on 2.3.0?": the value itself, whole
        return "Yes" if any(v == fact.value or fact.value.startswith(f"{v}.")
                            for v in VERSIONS.findall(ask.question)) else "No"
    if proposed & value:
        return "Yes"
    return "No" if proposed else None


# Words that propose a value in other words: "kicked off by a person?" proposes "manual".
MEANS = {"person": "manual", "human": "manual", "someone": "manual", "somebody": "manual",
         "hand": "manual", "manually": "manual", "mensch": "manual", "automatically": "schedule",
         "automatic": "schedule", "scheduler": "schedule"}


def _where(fact: Stored) -> str:
    return {"definition": "from its job definition", "start": "reported at its start",
            "payload": "from a payload it sent", "metric": "a metric it reported",
            "note": "from a note it sent"}[fact.source]


def _run_name(ask: Ask, job: Job, run: Run | None) -> str:
    if run is None:
        return job.title
    if ask.period is not None:
        return f"{job.title} {ask.period.label}" if not ask.period.label.startswith(
            ("today", "yesterday", "last night")) else f"{ask.period.label}'s {job.title}"
    started = run.started_at.astimezone(ask.zone)
    day = day_name(started.date(), ask.today)
    return f"{job.title}'s run that started {moment(started, ask.today)}" if day in (
        "today", "yesterday") else f"{job.title} on {started.strftime('%a %d %b')}"


async def _first_with(ask: Ask, job: Job, fact: Stored) -> Reply:
    """The first run whose fact had this value, and what it had before."""
    runs = list(await queries.list_runs(job, limit=VALUE_HISTORY, oldest_first=False,
                                        session=ask.session))
    runs.reverse()
    first, before = None, None
    for run in runs:
        value = await _value_of(run, fact, ask.session)
        if value == fact.value:
            first = run
            break
        before = value or before
    if first is None:
        return await detail_missing(ask, job, fact)
    started = first.started_at.astimezone(ask.zone)
    text = (f"{job.title} first ran with {fact.label} {fact.value} on "
            f"{started.strftime('%A')} {started.day} {started.strftime('%b')} "
            f"({moment(started, ask.today)})")
    text += f"; before that it was {before}." if before else "."
    return Reply(text, cards.text_card(job.title, text))


async def detail_missing(ask: Ask, job: Job, fact: Stored) -> Reply:
    text = f"I could not find a run of {job.title} with {fact.label} {fact.value}."
    return Reply(text, cards.text_card(job.title, text))


async def _value_of(run: Run, fact: Stored, session: AsyncSession) -> str | None:
    if fact.source == "start":
        value = run.attributes.get(fact.key)
        return None if value is None else str(value)
    events = await queries.run_events(run, kinds=["payload"], session=session)
    for found in run_facts(run, list(events)):
        if found.key == fact.key:
            return found.value
    return None


def known_facts(facts: list[Stored]) -> str:
    return listing(sorted({f.label for f in facts}))
