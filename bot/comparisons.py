"""Two days or two runs side by side: "was the audit faster on Monday than on Sunday?", "more
filings on Friday or Thursday?", "on-time % this week vs last week", "was last night's count
lower than the night before?".

A question is a comparison when it names two sides: two periods joined by "than", "or", "vs",
"compared to"…, or one period (or none: the latest run) and "the night before", "the previous
run", "last time". What is compared follows the words: a named step ("the db load") or the
run's duration for faster / slower / how long, a start or end time for earlier / later, else
the metric the words name best. A side spanning several days with several runs is summed
(counts) or averaged (shares, durations)."""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from statistics import mean

from alerts.wording import capital, duration, listing, quantity
from bot import cards
from bot.clarify import content_words
from bot.facts import Reply
from bot.handlers import Ask, label, state_word, the_run
from bot.jobfinder import job_words
from bot.matching import best_named
from bot.periods import WEEKDAYS, Period, at_same_time, day_period, days_period, find_period
from bot.question_words import unplaced_head
from bot.run_lists import judged_runs
from bot.stored import asked_concepts
from bot.stored import run_facts as stored_facts
from storage import queries
from storage.history import successful_history
from storage.models import Event, Job, Run

# Where a question turns from its first side to its second.
SEPARATOR = re.compile(r"\b(?:than|vs|versus|compared? (?:to|with)|or|and|against|als|oder|"
                       r"verglichen mit|gegenueber)\b")
# A second side named relative to the first: the run before it.
BEFORE = re.compile(r"\b(?:(?:the )?(?:night|day|evening|week|run|time|one) before(?! last)|"
                    r"(?:the )?previous (?:run|night|day|one|time)|before that|last time|"
                    r"the time before|day prior|vortag|vorher|davor)\b")
# The same day a week earlier: "the monday before", "the same day last week".
WEEK_BEFORE = re.compile(rf"\b(?:the )?(?:{'|'.join(WEEKDAYS)}) before\b|\bsame day (?:last|the) week\b|"
                         r"\ba week (?:before|earlier)\b")
NOT_A_SIDE = re.compile(r"\b(?:usual|usually|normal|normally|expected|average|typical|"
                        r"typically|target|limit|threshold|sla|planned)\b")
BIGGER = frozenset({"more", "higher", "bigger", "larger", "greater", "mehr", "up"})
SMALLER = frozenset({"less", "fewer", "lower", "smaller", "weniger", "down"})
SLOWER = frozenset({"slower", "longer", "langsamer", "laenger"})
FASTER = frozenset({"faster", "quicker", "shorter", "schneller", "kuerzer"})
LATER = frozenset({"later", "spaeter"})
EARLIER = frozenset({"earlier", "frueher"})
DURATION_WORDS = frozenset({"long", "took", "take", "takes", "duration", "runtime", "dauer",
                            "gedauert", "dauert", *SLOWER, *FASTER})
START_WORDS = frozenset({"start", "started", "starts", "begin", "began", "kick", "kicked"})
SHARE_WORDS = ("pct", "percent", "percentage", "ratio", "rate", "share", "avg", "average", "mean")
# Words of numbers that are better low ("was the mape better on monday?": lower).
LOWER_IS_BETTER = ("error", "reject", "skip", "fail", "late", "mape", "latency", "warning",
                   "overcharge", "missing", "duplicate", "retr", "timeout")
YES_NO_START = frozenset({"was", "were", "is", "are", "did", "does", "do", "has", "have", "war",
                          "ist", "hat", "waren", "sind"})


@dataclass(frozen=True)
class Sides:
    first: Period | None  # None: the latest run
    second: Period | None  # None: the run before the first side's run


def sides(ask: Ask) -> Sides | None:
    """The two things the question compares, or None when it does not name two."""
    if NOT_A_SIDE.search(ask.text):
        return None  # "more than usual" is a question about one run against its history
    for match in reversed(list(SEPARATOR.finditer(ask.text))):
        left, right = ask.text[:match.start()], ask.text[match.end():]
        first = find_period(left, ask.now, ask.zone)
        if first is not None and WEEK_BEFORE.search(right):
            return Sides(first, week_before(first, ask))  # "monday vs the monday before"
        if BEFORE.search(right):
            return Sides(first, None)
        second = find_period(right, ask.now, ask.zone)
        if (times := (_bare_time(left), _bare_time(right))) and all(times):
            # "13:05 or 17:05 on sunday": two runs of one day named by their start times
            day = second or first or find_period("today", ask.now, ask.zone)
            if day is not None and len(day.days) == 1:
                base = day_period(day.label, day.days[0], ask.zone)
                first, second = (at_same_time(base, replace(base, at_time=t), ask.now, ask.zone)
                                 for t in times if t is not None)
                return Sides(first, second)
        if second is not None and first is not None and not _differ(first, second) and \
                re.match(r"\s*(?:the )?(?:last|previous|letzten?|vorigen?) ", right):
            return Sides(first, week_before(first, ask))  # "this monday vs last monday"
        if second is not None and first is not None:
            second = at_same_time(second, first, ask.now, ask.zone)
            if first.at_time is not None and second.at_time is not None and first.days != second.days \
                    and find_period(_without_time(left), ask.now, ask.zone) is None:
                # "more at 13:05 or 17:05 on sunday?": the day named once holds for both
                day = day_period(second.label, second.days[0], ask.zone)
                first = at_same_time(day, first, ask.now, ask.zone)
        if second is not None and (first is None or _differ(first, second)):
            return Sides(first, second)
    if BEFORE.search(ask.text):
        return Sides(find_period(BEFORE.sub(" ", ask.text), ask.now, ask.zone), None)
    return None


def _bare_time(text: str) -> time | None:
    found = re.search(r"\b(\d{1,2}):(\d{2})\b", text)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


def _without_time(text: str) -> str:
    return re.sub(r"\b\d{1,2}:\d{2}\b|\b\d{1,2} ?(am|pm)\b", " ", text)


def week_before(period: Period, ask: Ask) -> Period:
    """The period seven days earlier, named by its first day."""
    days = tuple(day - timedelta(days=7) for day in period.days)
    start = datetime.combine(period.start.date() - timedelta(days=7), period.start.timetz())
    end = datetime.combine(period.end.date() - timedelta(days=7), period.end.timetz())
    first = days[0] if days else start.date()
    return replace(period, label=f"on {first:%A} {first.day} {first:%b}", start=start, end=end,
                   days=days)


def _differ(a: Period, b: Period) -> bool:
    return (a.start, a.end, a.at_time) != (b.start, b.end, b.at_time)


@dataclass(frozen=True)
class Side:
    name: str  # "on Monday 23 Nov", "last week"
    runs: list[Run]
    events: dict[int, list[Event]]


@dataclass(frozen=True)
class Measure:
    """What is compared, read from one run; None where the run did not report it."""

    name: str
    read: Callable[[Run, list[Event]], float | None]
    show: Callable[[float], str]
    gap: Callable[[float], str]  # a difference of two values
    additive: bool  # summed over several runs; else averaged
    bigger: str  # the word for a larger value: "more", "longer", "later"
    smaller: str
    lower_is_better: bool = True  # durations, errors, rejects, a forecast's error


async def compare(ask: Ask) -> Reply:
    assert ask.job is not None
    found = sides(ask)
    assert found is not None  # the engine asks only when there are two sides
    first = await _side(ask, found.first, None)
    second = await _side(ask, found.second, first)
    measure = _measure(ask, first, second)
    text = _answer(ask, ask.job, measure, first, second)
    if text and first.runs and second.runs:
        text += await _bad_sides(ask, first, second)
    text = text or await _states(ask, first, second)
    return Reply(text, cards.text_card(ask.job.title, text))


async def _bad_sides(ask: Ask, first: Side, second: Side) -> str:
    """" The run today failed." for a side of one run the watcher judged bad: a number of a
    failed run is not a like-for-like comparison."""
    assert ask.job is not None
    single = [side for side in (first, second) if len(side.runs) == 1]
    judged = {j.run.id: j for j in await judged_runs(ask.job, [s.runs[0] for s in single], ask.session)}
    said = [f" The run {side.name} {state_word(j.state)}." for side in single
            if (j := judged.get(side.runs[0].id)) is not None and j.bad]
    return "".join(said)


async def _side(ask: Ask, period: Period | None, before: Side | None, *, whole: bool = False) -> Side:
    assert ask.job is not None
    if period is None and before is not None:  # the run before the first side's
        until = before.runs[-1].started_at if before.runs else ask.now
        runs = list(await queries.list_runs(ask.job, until=until, limit=1, session=ask.session))
        name = _run_day(ask, runs[0]) if runs else "the run before"
    elif period is None:
        runs = list(await queries.list_runs(ask.job, limit=1, session=ask.session))
        name = _run_day(ask, runs[0]) if runs else "the latest run"
    else:
        runs = period.chosen(await queries.list_runs(ask.job, since=period.start,
                                                     until=min(period.end, ask.now), limit=None,
                                                     session=ask.session))
        if period.at_time is not None:
            runs = [r for r in runs if _near(r, period.at_time, ask)] or runs
        if len(period.days) <= 2 and 0 < len(runs) <= 2 and not whole:  # a day or a night: its last run
            runs = runs[:1]
        name = period.label
    events = {run.id or 0: list(await queries.run_events(run, session=ask.session,
                                                         kinds=("metric", "duration", "milestone")))
              for run in runs}
    return Side(name, runs, events)


def _near(run: Run, at: time, ask: Ask) -> bool:
    local = run.started_at.astimezone(ask.zone)
    return abs((local.hour * 60 + local.minute) - (at.hour * 60 + at.minute)) <= 45


def _run_day(ask: Ask, run: Run) -> str:
    local = run.started_at.astimezone(ask.zone)
    return f"on {local:%a} {local.day} {local:%b}"


def _measure(ask: Ask, first: Side, second: Side) -> Measure | None:
    words = set(ask.tokens)
    events = [e for side in (first, second) for found in side.events.values() for e in found]
    steps = sorted({e.name for e in events if e.kind == "duration" and e.name})
    milestones = sorted({e.name for e in events if e.kind == "milestone" and e.name})
    # In the order reported: of two names hit alike, the first reported is the job's main count.
    metrics = list(dict.fromkeys(e.name for e in events if e.kind == "metric" and e.name))
    own = _job_words(ask.job)
    if step := best_named(ask.tokens, steps, own):
        return Measure(label(step), lambda _r, ev: _step(ev, step), duration, duration,
                       True, "longer", "shorter")
    if words & (LATER | EARLIER) or ({"finish", "finished", "end", "ended", "done"} & words
                                      and not words & (BIGGER | SMALLER)):
        if milestone := best_named(ask.tokens, milestones, own):
            return Measure(f"{label(milestone)} reached at", lambda _r, ev: _reached(ev, milestone, ask),
                           _clock, duration, False,
                           "later", "earlier")
        if words & START_WORDS:
            return Measure("started at", lambda r, _ev: _seconds_of_day(r.started_at, ask),
                           _clock, duration, False,
                           "later", "earlier")
        return Measure("finished at", lambda r, _ev: _seconds_of_day(r.finished_at, ask)
                       if r.finished_at else None, _clock, duration, False,
                           "later", "earlier")
    metric_named = best_named(ask.tokens, metrics, own, at_least=1)
    if words & DURATION_WORDS and not best_named(ask.tokens, metrics, own):
        return Measure("run time", _took, duration, duration, False, "longer", "shorter")
    if metric_named:
        unit = next((e.data.get("unit") for e in events if e.name == metric_named
                     and e.kind == "metric" and e.data.get("unit")), None)
        share = unit in ("%", "percent", "pct") or any(w in metric_named.lower() for w in SHARE_WORDS)
        lower = any(w in metric_named.lower() for w in LOWER_IS_BETTER) or "max" in (
            (ask.job.expect.get("metrics", {}) if ask.job else {}).get(metric_named) or {})
        return Measure(label(metric_named), lambda _r, ev: _metric(ev, metric_named),
                       lambda v: quantity(v, unit), lambda v: quantity(v, unit), not share,
                       "more", "fewer", lower)
    if words & DURATION_WORDS:
        return Measure("run time", _took, duration, duration, False, "longer", "shorter")
    return None


def _job_words(job: Job | None) -> set[str]:
    return job_words(job) if job else set()


def _step(events: list[Event], name: str) -> float | None:
    found = [e.value for e in events if e.kind == "duration" and e.name == name and e.value is not None]
    return float(found[-1]) if found else None


def _metric(events: list[Event], name: str) -> float | None:
    found = [e.value for e in events if e.kind == "metric" and e.name == name and e.value is not None]
    return float(found[-1]) if found else None


def _reached(events: list[Event], name: str, ask: Ask) -> float | None:
    found = [e.at for e in events if e.kind == "milestone" and e.name == name]
    return _seconds_of_day(found[0], ask) if found else None


def _took(run: Run, _events: list[Event]) -> float | None:
    return (run.finished_at - run.started_at).total_seconds() if run.finished_at else None


def _seconds_of_day(at: datetime, ask: Ask) -> float:
    local = at.astimezone(ask.zone)
    return float(local.hour * 3600 + local.minute * 60 + local.second)


def _clock(value: float) -> str:
    """Seconds after local midnight as a clock time: 5,400 → "01:30"."""
    return f"{int(value // 3600):02}:{int(value % 3600 // 60):02}"


def _value(measure: Measure, side: Side) -> tuple[float | None, int]:
    """The side's value and how many runs gave it (summed or averaged over several)."""
    values = [v for run in side.runs
              if (v := measure.read(run, side.events.get(run.id or 0, []))) is not None]
    if not values:
        return None, 0
    return (sum(values) if measure.additive else mean(values)), len(values)


def _answer(ask: Ask, job: Job, measure: Measure | None, first: Side, second: Side) -> str:
    missing = [side.name for side in (first, second) if not side.runs]
    if missing:
        ran = first if first.runs else second
        return (f"I can't compare: {job.title} has no run {' or '.join(missing)}"
                + (f" (it ran {ran.name})." if ran.runs else "."))
    if measure is None:
        return ""
    a, count_a = _value(measure, first)
    b, count_b = _value(measure, second)
    if a is None and b is None:
        return (f"I can't compare {measure.name} of {job.title}: it was reported neither "
                f"{first.name} nor {second.name}.")
    if a is None or b is None:
        absent, there, value = (first, second, b) if a is None else (second, first, a)
        return (f"I can't compare {measure.name} of {job.title}: it was not reported "
                f"{absent.name} ({measure.show(value or 0)} {there.name}).")
    what = capital(measure.name)
    line = (f"{what} in {job.title}: {measure.show(a)} {first.name}{_over(count_a, measure)} "
            f"against {measure.show(b)} {second.name}{_over(count_b, measure)}")
    if a == b:
        return f"{_polar(ask, None, measure)}{line} — the same."
    more = measure.bigger if a > b else measure.smaller
    return f"{_polar(ask, a > b, measure)}{line}: {measure.gap(abs(a - b))} {more} {first.name}."


def _over(count: int, measure: Measure) -> str:
    if count <= 1:
        return ""
    return f" ({'in total over' if measure.additive else 'on average over'} {count} runs)"


def _polar(ask: Ask, first_bigger: bool | None, measure: Measure) -> str:
    """ "Yes — " / "No — " when the question asks whether the first side was bigger or
    smaller ("was it faster on Monday than on Sunday?")."""
    tokens = ask.text.split()
    if not tokens or tokens[0] not in YES_NO_START:
        return ""
    asked = set(tokens)
    if asked & {"better", "worse", "besser", "schlechter"}:  # of a number where less is better
        lower = measure.lower_is_better
        better = bool(asked & {"better", "besser"})
        asked = asked | ({"less"} if better == lower else {"more"})
    if measure.bigger == "longer":
        wants_bigger = bool(asked & SLOWER) if asked & (SLOWER | FASTER) else None
    elif measure.bigger == "later":
        wants_bigger = bool(asked & LATER) if asked & (LATER | EARLIER) else None
    else:
        wants_bigger = bool(asked & BIGGER) if asked & (BIGGER | SMALLER) else None
    if wants_bigger is None:
        return ""
    if first_bigger is None:
        return "No — "
    return "Yes — " if first_bigger == wants_bigger else "No — "


async def _states(ask: Ask, first: Side, second: Side) -> str:
    """No number named: how each side went, as the watcher judged it."""
    assert ask.job is not None
    runs = [side.runs[0] for side in (first, second)]
    judged = {j.run.id: j.state for j in await judged_runs(ask.job, runs, ask.session)}
    said = [f"{side.name}: {state_word(judged.get(run.id, 'running'))}"
            for side, run in zip((first, second), runs, strict=True)]
    known = sorted({label(e.name) for side in (first, second) for found in side.events.values()
                    for e in found if e.kind == "metric" and e.name})
    hint = f" Ask about {', '.join(known[:4])} or the duration to compare numbers." if known else ""
    return f"{ask.job.title} {said[0]}; {said[1]}.{hint}"



# --- one measure over a period of several runs --------------------------------------------------

MAX_LINES = 14
SUM_WORDS = frozenset({"total", "sum", "added", "altogether", "insgesamt", "combined", "zusammen"})
RECENT_DAYS = 30  # "the slowest run", with no period named
EXTREME_DURATION = frozenset({"longest", "slowest", "shortest", "fastest", "quickest"})
TOTAL_WORDS = frozenset({"total", "totals", "altogether", "combined", "sum", "insgesamt", "average",
                         "avg", "overall", "gesamt"})
EXTREME_MAX = frozenset({"longest", "slowest", "most", "highest", "biggest", "largest", "max",
                         "maximum", "peak"})
EXTREME_MIN = frozenset({"shortest", "fastest", "least", "lowest", "smallest", "fewest", "min",
                         "minimum", "quickest"})


def wants_over_period(ask: Ask, intent: str) -> bool:
    """Whether a question of this intent may ask about a whole period rather than one run of
    it: a value asked for over days, or a total or an extreme asked for in so many words."""
    words = set(ask.tokens)
    extreme = bool(words & (EXTREME_MAX | EXTREME_MIN | EXTREME_DURATION))
    if ask.period is None:
        return extreme  # "which run had the slowest db load": of the recent ones
    if extreme or words & TOTAL_WORDS:
        return True
    return intent in ("metric", "detail", "status") and len(ask.period.days) > 1 and \
        not ask.period.label.endswith("night") and bool(content_words(ask) or words & DURATION_WORDS)


async def over_period(ask: Ask) -> Reply | None:
    """"Total shipments updated yesterday", "filings rejected last week", "longest forecast
    run in the last two weeks": a metric, a step or the duration over every run of a period
    — the total (or average, or extreme), with each run's value. None when the period holds
    at most one run or no measure is named."""
    assert ask.job is not None
    if sides(ask) is not None:
        return None
    words = set(ask.tokens)
    if not words & (DURATION_WORDS | EXTREME_DURATION | EXTREME_MAX | EXTREME_MIN | TOTAL_WORDS):
        usual = await successful_history(ask.job, before=ask.now, limit=3, session=ask.session)
        if not best_named(ask.tokens, [*usual.metrics, *usual.milestones], _job_words(ask.job)):
            return None  # "how many times did it run this month": no number of its runs named
    period = ask.period or days_period(f"in the last {RECENT_DAYS} days",
                                       ask.today - timedelta(days=RECENT_DAYS - 1), ask.today, ask.zone)
    side = await _side(ask, period, None, whole=True)
    if len(side.runs) < 2:
        return None
    words = set(ask.tokens)
    measure = _measure(ask, side, side)
    if words & EXTREME_DURATION and (measure is None or measure.bigger != "longer"):
        measure = Measure("run time", _took, duration, duration, False, "longer", "shorter")
    if measure is not None and measure.name == "run time" and words & SUM_WORDS:
        measure = replace(measure, additive=True)  # "total runtime of all syncs, added up"
    metrics = list(dict.fromkeys(e.name for found in side.events.values() for e in found
                                 if e.kind == "metric" and e.name))
    if measure is None or (measure.bigger == "more" and not best_named(
            ask.tokens, metrics, _job_words(job := ask.job))):
        return None  # "how many rates runs": the job's own word names no metric surely
    if unplaced_head(ask.text, ask.job, measure.name.split()) is not None:
        return None  # "which carrier had the most …": not a number of the runs
    values = [(run, v) for run in reversed(side.runs)
              if (v := measure.read(run, side.events.get(run.id or 0, []))) is not None]
    if len(values) < 2:
        return None
    job = ask.job
    per_run = [f"{_run_moment(ask, run)}: {measure.show(v)}" for run, v in values]
    if words & (EXTREME_MAX | EXTREME_MIN):
        pick = max if words & EXTREME_MAX else min
        run, value = pick(values, key=lambda item: item[1])
        first = (f"{capital(measure.name)} in {job.title} {side.name}: "
                 f"{'the most' if pick is max else 'the least'} was {measure.show(value)}, "
                 f"{_run_moment(ask, run)} (of {len(values)} runs).")
    else:
        total, count = _value(measure, side)
        how = "in total" if measure.additive else "on average"
        first = (f"{capital(measure.name)} in {job.title} {side.name}: {measure.show(total or 0)} "
                 f"{how} over {count} runs.")
    lines = per_run[-MAX_LINES:]
    text = first + "\n" + "\n".join(f"- {line}" for line in lines)
    return Reply(text, cards.text_card(job.title, text))


def _run_moment(ask: Ask, run: Run) -> str:
    local = run.started_at.astimezone(ask.zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


SAME_WORDS = frozenset({"same", "different", "identical", "changed", "gleiche", "gleichen",
                        "selbe", "selben"})


async def same_on_both_sides(ask: Ask) -> Reply | None:
    """"Was the rate import on the same version yesterday and last night?": a start attribute
    or payload field (by its concept) of the two runs the question names."""
    assert ask.job is not None
    two = sides(ask)
    concepts = asked_concepts(ask.tokens)
    if two is None or two.first is None or two.second is None or not concepts or \
            not SAME_WORDS & set(ask.tokens):
        return None
    values: list[tuple[str, str | None]] = []
    for period in (two.first, two.second):
        run = await the_run(replace(ask, period=period))
        events = list(await queries.run_events(run, session=ask.session)) if run else []
        found = [f.value for f in stored_facts(run, events) if f.concept == concepts[0]] if run else []
        values.append((period.label, found[0] if found else None))
    name = concepts[0].name
    if any(value is None for _, value in values):
        missing = [label for label, value in values if value is None]
        text = f"I don't know: {ask.job.title} reported no {name} {listing(missing)}."
    elif values[0][1] == values[1][1]:
        text = f"Yes — {ask.job.title} ran on {name} {values[0][1]} both {values[0][0]} and {values[1][0]}."
    else:
        text = (f"No — {ask.job.title} ran on {name} {values[0][1]} {values[0][0]} and on "
                f"{values[1][1]} {values[1][0]}.")
    return Reply(text, cards.text_card(ask.job.title, text))


RECENT_RUNS = 20  # "its usual box": the value most of these runs before it had
USUAL_WORDS = frozenset({"usual", "normal", "normally", "usually", "always", "regular", "ueblichen",
                         "gewohnten"})


async def as_usual(ask: Ask) -> Reply | None:
    """"Is today's forecast running on its usual box?": a start attribute or payload field of
    the run asked about against the value most of the job's recent runs had."""
    assert ask.job is not None
    concepts = asked_concepts(ask.tokens)
    run = await the_run(ask)
    if not concepts or run is None:
        return None
    earlier = list(await queries.list_runs(ask.job, until=run.started_at, limit=RECENT_RUNS,
                                           session=ask.session))
    events = await queries.events_of_runs([r.id for r in [run, *earlier] if r.id is not None],
                                          session=ask.session)

    def value(of: Run) -> str | None:
        found = [f.value for f in stored_facts(of, events.get(of.id or 0, []))
                 if f.concept == concepts[0]]
        return found[0] if found else None
    now, before = value(run), [v for v in map(value, earlier) if v is not None]
    name = concepts[0].name
    if now is None or not before:
        return None
    usual_value, times = Counter(before).most_common(1)[0]
    said = f"{usual_value} ({times} of the {len(before)} runs before it)"
    if now == usual_value:
        text = f"Yes — {ask.job.title} ran on {name} {now}, its usual one: {said}."
    else:
        text = f"No — {ask.job.title} ran on {name} {now}; usually {said}."
    return Reply(text, cards.text_card(ask.job.title, text))
