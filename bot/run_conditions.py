"""Runs counted or listed by a condition the question sets on them: a number compared ("the
days the audit checked fewer than 3000 invoices"), a number reported at all ("runs that had
rejected filings"), a value they ran with ("on 4.8.0", "on etl-fra-3") or a milestone they
reached ("how many forecasts got published"). Any metric, attribute, payload field or
milestone the job reports can be the condition; none is written here by name."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time

from alerts.wording import duration, number, quoted
from bot.answer_state import JudgedRun
from bot.clarify import content_words
from bot.handlers import Ask, label
from bot.jobfinder import job_words, names_of
from bot.matching import name_words, named_all, root
from bot.periods import TIME_WORDS
from bot.stored import VERSIONS, run_facts
from storage import queries
from storage.models import Event

COMPARED = re.compile(r"\b(?P<op>fewer|less|more|over|under|above|below|at least|at most|weniger|"
                      r"mehr|ueber|unter)(?: than| als)? (?P<n>\d[\d,.]*|one|two|three|four|five|ten)\b")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
BIGGER = ("more", "over", "above", "at least", "mehr", "ueber")
# "took longer than 20 minutes", "ran over an hour", "shorter than 1h".
LASTED = re.compile(r"\b(?P<op>longer|more|over|shorter|less|under)(?: than)? (?P<n>\d+|an?|one|two|"
                    r"three) ?(?P<unit>m|min|mins|minutes?|minuten|h|hrs?|hours?|stunden?)\b")
# "finished after 9:45", "started before 01:35", "ended later than 10am".
AT_CLOCK = re.compile(r"\b(?P<what>finished|ended|done|completed|started|began|kicked off) "
                      r"(?P<op>after|before|later than|earlier than) (?P<h>\d{1,2})(?::(?P<m>\d{2}))?"
                      r" ?(?P<ampm>am|pm)?\b")
# "went to savannah", "came from freighthub": a stored word value after its preposition.
TO_VALUE = re.compile(r"\b(?:to|from|via|through|for|into) (?P<word>[a-z]{4,})\b")
HAVING = re.compile(r"\b(?:had|has|have|with|mit|hatten|hatte|containing|reported)\b")
TIME_WORDS_SET = frozenset(TIME_WORDS)
REACHING = frozenset({"published", "reached", "reach", "got", "made", "finished", "done", "shared",
                      "sent", "filed", "loaded", "received", "submitted", "delivered"})


@dataclass(frozen=True)
class Condition:
    said: str  # "checked fewer than 3,000 invoices" — reads after "that"
    holds: Callable[[list[Event], JudgedRun], bool]


def condition(ask: Ask, metrics: Sequence[str], milestones: Sequence[str],
              values: dict[str, set[str]]) -> Condition | None:
    """The condition the question sets on runs, or None: `metrics` and `milestones` are the
    names the job's runs report, `values` each start or payload field's values seen."""
    assert ask.job is not None
    own = job_words(ask.job)
    compared = COMPARED.search(ask.text)
    metric = next(iter(named_all(ask.tokens, list(metrics), own, at_least=1)), None)
    if compared and metric:
        limit = float(NUMBERS.get(compared["n"]) or compared["n"].replace(",", ""))
        bigger = compared["op"] in BIGGER
        inclusive = compared["op"].startswith("at ")
        word = "at least" if bigger and inclusive else "at most" if inclusive else \
            "more than" if bigger else "fewer than"
        return Condition(f"reported {word} {number(limit)} {label(metric)}",
                         lambda events, _j: _compare(_metric(events, metric), limit, bigger, inclusive))
    if lasted := LASTED.search(ask.text):
        return _lasted(lasted)
    if clock := AT_CLOCK.search(ask.text):
        return _at_clock(clock, ask)
    for value_key, seen in values.items():
        for value in seen:
            if _names_value(ask.question, value) or _names_word_value(ask, value):
                return Condition(f"ran with {label(value_key)} {value}", _with_value(value_key, value))
    if level := _logged_level(ask):
        return Condition(f"logged {'a warning' if level == 'warning' else 'an error'}",
                         lambda events, _j: any(e.kind == "note" and e.data.get("level") in
                                                LEVELS[level] for e in events))
    named = milestone_by_words(ask, milestones, own)
    if named and REACHING & set(ask.tokens):
        return Condition(f"reached {quoted(named)}",
                         lambda events, _j: any(e.kind == "milestone" and e.name == named and
                                                (e.status or "reached") == "reached" for e in events))
    if metric and HAVING.search(ask.text) and named_all(ask.tokens, [metric], own, at_least=3):
        return Condition(f"reported {label(metric)}",
                         lambda events, _j: (_metric(events, metric) or 0) > 0)
    return None


async def runs_where(ask: Ask, judged: list[JudgedRun]) -> tuple[Condition, list[JudgedRun]] | None:
    """The runs among `judged` that meet the question's condition, or None when it sets none."""
    if not _may_set_one(ask):
        return None  # most counts set none: their runs' events are not read
    events = {j.run.id or 0: list(await queries.run_events(j.run, session=ask.session)) for j in judged}
    metrics = list(dict.fromkeys(e.name for found in events.values() for e in found
                                 if e.kind == "metric" and e.name))
    milestones = list(dict.fromkeys(e.name for found in events.values() for e in found
                                    if e.kind == "milestone" and e.name))
    values: dict[str, set[str]] = {}
    for j in judged:
        for fact in run_facts(j.run, events[j.run.id or 0]):
            if fact.source in ("start", "payload") and len(fact.value) >= 3:
                values.setdefault(fact.key, set()).add(fact.value)
    found = condition(ask, metrics, milestones, values)
    if found is None:
        return None
    return found, [j for j in judged if found.holds(events[j.run.id or 0], j)]


LEVELS = {"warning": ("warning", "error"), "error": ("error",)}
LOGGED = re.compile(r"\b(?:warnings?|warned|warnung(?:en)?)\b"
                    r"|\b(?P<error>errors?|fehler) (?:logged|in the log)")


def _logged_level(ask: Ask) -> str | None:
    """"Any warnings last week?", "which days did it log a warning": runs by what they logged."""
    found = LOGGED.search(ask.text)
    if found is None:
        return None
    return "error" if found["error"] else "warning"


def _may_set_one(ask: Ask) -> bool:
    """Whether the question may set a condition at all, from its words alone: most counts
    ("how many runs did it have this year?") set none, and their runs' events are not read."""
    if COMPARED.search(ask.text) or LOGGED.search(ask.text) or LASTED.search(ask.text) or \
            AT_CLOCK.search(ask.text):
        return True
    if any(found["word"] in content_words(ask) for found in TO_VALUE.finditer(ask.text)):
        return True  # "how many runs went to savannah"
    content = content_words(ask) - TIME_WORDS_SET
    if content and (HAVING.search(ask.text) or REACHING & set(ask.tokens)):
        return True
    own = {w for job in ([ask.job] if ask.job else []) for name in names_of(job) for w in name.split()}
    return any(VERSIONS.fullmatch(w) or (re.search(r"\d", w) and re.search(r"[a-z]", w)
                                         and w not in own and not re.fullmatch(r"\d+(st|nd|rd|th)", w))
               for w in re.findall(r"[\w.-]+", ask.question.lower()))


def reaches_a_milestone(ask: Ask, milestones: Sequence[str]) -> bool:
    """The question's verb is that of one of the milestones ("got published")."""
    assert ask.job is not None
    own = {root(w) for w in job_words(ask.job)}  # "filings" names the job, it is not "filed"
    asked = {root(t) for t in ask.tokens} - own & {root(r) for r in REACHING}
    return any({root(w) for w in name_words(m)} & asked for m in milestones)


def milestone_by_words(ask: Ask, names: Sequence[str], own: set[str]) -> str | None:
    asked = {root(t) for t in ask.tokens}
    whole = [n for n in named_all(ask.tokens, list(names), own, at_least=2)
             if len({root(w) for w in name_words(n)} & asked) >= min(2, len(name_words(n)))]
    if whole:
        return whole[0]
    # "how many forecasts got published": the job's own word and the verb of one milestone
    verbs = [n for n in names if {root(w) for w in name_words(n)} & asked & {root(r) for r in REACHING}]
    return verbs[0] if len(verbs) == 1 else None


def _names_value(question: str, value: str) -> bool:
    """A value written in the question as it is stored ("on 4.8.0", "on etl-fra-3")."""
    if not VERSIONS.fullmatch(value) and not re.search(r"[\d-]", value):
        return False  # plain words ("cron", "manual") name too many other things
    return re.search(rf"(?<![\w.]){re.escape(value.lower())}(?![\w])", question.lower()) is not None


def _names_word_value(ask: Ask, value: str) -> bool:
    """A value that is a name ("Savannah") after a preposition in the question ("went to
    savannah"): plain lower-case values ("cron", "manual") name too many other things."""
    if not value[:1].isupper() or not value.replace(" ", "").isalpha():
        return False
    return any(found["word"] == value.lower() for found in TO_VALUE.finditer(ask.text))


def _lasted(found: re.Match[str]) -> Condition:
    amount = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}.get(found["n"]) or int(found["n"])
    seconds = amount * (3600 if found["unit"][0] in "hs" else 60)
    longer = found["op"] in ("longer", "more", "over")

    def holds(_events: list[Event], judged: JudgedRun) -> bool:
        run = judged.run
        if run.finished_at is None:
            return False
        took = (run.finished_at - run.started_at).total_seconds()
        return took > seconds if longer else took < seconds
    return Condition(f"took {'longer' if longer else 'less'} than {duration(seconds)}", holds)


def _at_clock(found: re.Match[str], ask: Ask) -> Condition:
    hour, minute = int(found["h"]), int(found["m"] or 0)
    if found["ampm"] == "pm" and hour < 12:
        hour += 12
    limit = time(hour % 24, minute % 60)
    later = found["op"] in ("after", "later than")
    started = found["what"] in ("started", "began", "kicked off")
    zone = ask.zone

    def holds(_events: list[Event], judged: JudgedRun) -> bool:
        at = judged.run.started_at if started else judged.run.finished_at
        if at is None:
            return False
        local = at.astimezone(zone).time()
        return local > limit if later else local < limit
    verb = "started" if started else "finished"
    return Condition(f"{verb} {'after' if later else 'before'} {limit:%H:%M}", holds)


def _metric(events: list[Event], name: str) -> float | None:
    found = [e.value for e in events if e.kind == "metric" and e.name == name and e.value is not None]
    return float(found[-1]) if found else None


def _compare(value: float | None, limit: float, bigger: bool, inclusive: bool) -> bool:
    if value is None:
        return False
    if inclusive:
        return value >= limit if bigger else value <= limit
    return value > limit if bigger else value < limit


def _with_value(key: str, value: str) -> Callable[[list[Event], JudgedRun], bool]:
    def holds(events: list[Event], judged: JudgedRun) -> bool:
        return next((f.value for f in run_facts(judged.run, events) if f.key == key), None) == value
    return holds
