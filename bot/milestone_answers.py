"""Questions about one milestone of a run: "did the audit get past loading invoices?", "are
the tariffs published?", "when did the rates file arrive?". The first sentence is about the
milestone named — reached, and when; not reached, and what the run did instead; not yet,
and by when it is due — and the run's own outcome follows, so that a reached milestone of a
run that then failed never reads as good news."""

import re
from datetime import timedelta

from alerts.expectations import deadlines, start_within
from alerts.wording import clock_time, moment, quoted
from bot import cards
from bot.clarify import content_words
from bot.facts import MilestoneFact, Reply, RunFacts
from bot.handlers import Ask, details, subject, the_run, verdict
from bot.jobfinder import job_words
from bot.matching import name_words, named_all, root
from bot.run_facts import run_facts
from bot.schedule_words import upcoming
from bot.stored import expected_milestones
from storage.models import Job

# Questions these start are not yes/no questions: "when did the file arrive".
QUESTION_WORDS = frozenset({"when", "what", "whats", "which", "where", "how", "who", "why", "wann",
                            "wie", "welche", "welcher", "wo", "at"})
QUANTITY_WORDS = frozenset({"many", "much", "total", "number", "count", "sum", "viele", "anzahl"})
EARLY = timedelta(hours=1)  # a run may start this long before or after its occurrence
# Words people use for a milestone's verb, in the words milestone names use.
SYNONYMS = {"arrive": "received", "arrived": "received", "arrives": "received",
            "came": "received", "come": "received", "landed": "received", "delivered": "received",
            "sent": "filed", "send": "filed", "out": "published", "live": "published",
            "shared": "shared", "uploaded": "uploaded", "loading": "loaded", "done": "finished"}


def named_milestone(ask: Ask, names: list[str]) -> str | None:
    """The milestone the question names, by its words or their usual synonyms; the job's own
    name words may name it only together ("tariff load": "rates-loaded" needs both)."""
    assert ask.job is not None
    tokens = [*ask.tokens, *(SYNONYMS[t] for t in ask.tokens if t in SYNONYMS)]
    asked = {root(t) for t in tokens}
    # Two of its words, or its only one: "the rate file" is not "file-received".
    whole = [n for n in named_all(tokens, names, job_words(ask.job), at_least=2)
             if len({root(w) for w in name_words(n)} & asked) >= min(2, len(name_words(n)))]
    return whole[0] if whole else None


def milestone_names(job: Job, facts: RunFacts | None) -> list[str]:
    seen = [m.name for m in facts.milestones] if facts else []
    return list(dict.fromkeys([*seen, *expected_milestones(job)]))


async def milestone_reply(ask: Ask) -> Reply | None:
    """The answer about the milestone the question names, or None when it names none."""
    assert ask.job is not None
    if QUANTITY_WORDS & set(ask.tokens):
        return None  # "total shipments updated": the metric, not the milestone of that name
    if not content_words(ask) and not SYNONYMS.keys() & set(ask.tokens):
        return None  # "did the import finish?" names no milestone: its facts are not read twice
    run = await the_run(ask)
    facts = await run_facts(ask.job, run, ask.zone, session=ask.session) if run else None
    name = named_milestone(ask, milestone_names(ask.job, facts))
    if name is None or facts is None:
        return None
    fact = next((m for m in facts.milestones if m.name == name), None)
    first = _first(ask, facts, name, fact)
    lines = [verdict(ask, facts, yes_no=False), *details(facts, ask)]
    text = first + "".join(f"\n- {line}" for line in lines)
    return Reply(text, cards.run_card(first, facts))


def _first(ask: Ask, facts: RunFacts, name: str, fact: MilestoneFact | None) -> str:
    yes_no = ask.text.split()[:1] != [] and ask.text.split()[0] not in QUESTION_WORDS
    who = subject(ask, facts)
    if fact is not None and fact.status == "reached" and fact.at is not None:
        said = f"{quoted(name)} was reached at {clock_time(fact.at)} ({who})"
        if yes_no and STILL_DOING.search(ask.text):  # "is it still loading data?": done with that
            now = f"; it is now at stage {quoted(facts.progress.stage)}" if facts.progress and \
                facts.progress.stage and facts.status == "running" else ""
            return f"No — {said}{now}."
        after = _after(facts)
        return f"{'Yes — ' if yes_no else ''}{said}{after}."
    if fact is not None and fact.status == "failed":
        reason = f": {fact.text}" if fact.text else ""
        at = clock_time(fact.at) if fact.at else "?"
        return f"{'No — ' if yes_no else ''}{quoted(name)} failed at {at} ({who}){reason}."
    if facts.status == "running":
        due = _due(ask, facts, name)
        return f"{'Not yet — ' if yes_no else ''}{quoted(name)} has not been reached yet: {who} " \
               f"is still running{due}."
    return f"{'No — ' if yes_no else ''}{quoted(name)} was not reached: {who} ended at " \
           f"{clock_time(facts.finished_at) if facts.finished_at else '?'} without it."


# "Is it still loading data?": doing what a milestone marks as done.
STILL_DOING = re.compile(r"\b(?:still|noch) \w+ing\b")


def _after(facts: RunFacts) -> str:
    """What the run did after the milestone, when that was bad news."""
    if facts.state in ("failed", "partial", "ended_early", "cancelled"):
        return f", but the run then {'failed' if facts.state == 'failed' else 'ended early'}"
    return ""


def _due(ask: Ask, facts: RunFacts, name: str) -> str:
    assert ask.job is not None
    started = facts.started_at
    occurrences = upcoming(ask.job, started - start_within(ask.job) - EARLY, started + EARLY)
    if not occurrences:
        return ""
    for deadline in deadlines(ask.job, occurrences[-1]):
        if deadline.milestone == name:
            at = deadline.at.astimezone(ask.zone)
            return f"; it is due by {clock_time(at)} ({moment(at, ask.today)})"
    return ""
