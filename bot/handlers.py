"""One small handler per intent. Each reads facts through storage and returns a Reply whose
first sentence answers the question itself; the details follow, with the usual values."""

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.audience import EVERYONE, Viewer
from alerts.baselines import usual
from alerts.expectations import LATENESS, judged_from_kinds
from alerts.wording import (
    capital,
    clock_time,
    day_name,
    duration,
    listing,
    moment,
    number,
    quantity,
    quoted,
)
from bot import cards
from bot.answer_state import AnswerState, Snapshot
from bot.facts import JobLine, MetricFact, Reply, RunFacts
from bot.jobfinder import job_words
from bot.matching import best_named, named_all, root
from bot.periods import Period, run_window
from bot.question_words import STOP as QUESTION_STOP
from bot.question_words import described_words, unplaced_head
from bot.run_facts import run_facts
from bot.schedule_words import in_words, upcoming
from storage import alerts, queries
from storage.alerts import Alert
from storage.history import successful_history
from storage.models import Job, Run

MIN_LATE_MARGIN = 15 * 60  # seconds; a start this late after its usual time is still on time


@dataclass
class Ask:
    """One question, understood: what it names and where its answer comes from."""

    text: str
    tokens: list[str]
    now: datetime  # UTC
    zone: ZoneInfo  # the asker's, or the job's, or the server's
    period: Period | None
    job: Job | None
    session: AsyncSession
    viewer: Viewer = EVERYONE  # where it is asked: the jobs an answer may know of
    question: str = ""  # as typed, for values matched as written ("version 0.9.3")
    # What the engine keeps between questions, and its list of every job (by slug) when it
    # has one: read through storage otherwise.
    state: AnswerState = field(default_factory=AnswerState)
    known: Sequence[Job] | None = None
    # The run the question names when another reading found it ("the last good one").
    run: Run | None = None
    zone_asked: bool = False  # `zone` is the one the question named ("in New York time")

    async def visible_jobs(self) -> list[Job]:
        """Every job the asker may see, by slug."""
        jobs = self.known if self.known is not None else await queries.all_jobs(session=self.session)
        return self.viewer.visible(jobs)

    @property
    def yes_no_question(self) -> bool:
        """Whether the question begins as a yes/no question does ("did…", "is…", "any…")."""
        tokens = self.text.split()
        if tokens and tokens[0] in YES_NO_START:
            return True
        # "audit on the 18th - did it run?": the question after what it is about
        after = re.split(r"\s[-–—:]\s|:\s", self.question, maxsplit=1)
        return len(after) == 2 and after[1].strip().split(" ", 1)[0].lower() in YES_NO_START

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()


Handler = Callable[[Ask], Awaitable[Reply]]


# --- finding the run a question is about ---------------------------------------------------

FAILURE_WORDS = frozenset({"fail", "failed", "fails", "failing", "failure", "error", "errors",
                           "wrong", "broke", "broken", "crash", "crashed", "problem", "problems"})
BAD_STATUSES = ("failed", "partial", "cancelled")


async def the_run(ask: Ask, *, prefer_bad: bool = False) -> Run | None:
    """The run a question is about: the latest in its period (or the latest of all). With
    `prefer_bad`, or when the question asks about failing, the latest run in the period that
    did not succeed, if one did not ("what happened on the 18th" — the run that failed, not
    its rerun)."""
    assert ask.job is not None
    if ask.run is not None:
        return ask.run
    if ask.period is None:
        runs = await queries.list_runs(ask.job, until=ask.now, limit=1, session=ask.session)
        return runs[0] if runs else None
    start, end = ask.period.start, min(ask.period.end, ask.now)
    runs = ask.period.chosen(await queries.list_runs(ask.job, since=start, until=end, limit=None,
                                                     session=ask.session))
    if ask.period.at_time is not None:
        near = [r for r in runs if any(
            w[0] <= r.started_at < w[1] for w in (run_window(d, ask.period.at_time, ask.zone)
                                                  for d in ask.period.days))]
        runs = near or runs
    if "first" in ask.tokens and runs:  # "did the first audit run on the 18th …"
        return runs[-1]
    if prefer_bad or FAILURE_WORDS & set(ask.tokens):
        bad = [r for r in runs if r.status in BAD_STATUSES]
        if bad:
            return bad[0]
    return runs[0] if runs else None


def subject(ask: Ask, facts: RunFacts) -> str:
    """How the answer names the run: "today's Nightly import", "Nightly import on Mon 23 Nov"
    (by its own day, too, when the period asked about is longer than a day or a night)."""
    if ask.period is None or len(ask.period.days) > 2:
        day = day_name(facts.started_at.date(), ask.today)
        if day in ("today", "yesterday"):
            return f"{day}'s {facts.title}"
        return f"{facts.title} on {facts.started_at.strftime('%a')} {facts.started_at.day} " \
               f"{facts.started_at.strftime('%b')}"
    if ask.period.label in ("today", "yesterday", "last night", "this week"):
        return f"{ask.period.label}'s {facts.title}"
    return f"{facts.title} {ask.period.label}"


async def open_alerts(ask: Ask) -> Sequence[Alert]:
    assert ask.job is not None
    return await alerts.unresolved_alerts(ask.job.id or 0, session=ask.session)


def late(ask: Ask, run: Run | None, found: Sequence[Alert]) -> str:
    """The watcher's open judgements (`found`) on this run (or, without one, this period), as
    a clause: "it is late: 'report-published' was due at 06:00"."""
    clauses = []
    for alert in found:
        due = datetime.fromisoformat(alert.facts["due"]).astimezone(ask.zone) \
            if "due" in alert.facts else None
        if due is None:
            continue
        if alert.kind == "milestone_missed" and run is not None and alert.run_id == run.id:
            clauses.append(f"{quoted(alert.facts['milestone'])} was due at {clock_time(due)}")
        elif alert.kind == "did_not_start" and run is None and (
                ask.period is None or ask.period.covers(due)):
            clauses.append(f"it was due to start {moment(due, ask.today)}")
    return f"it is late: {listing(clauses)}" if clauses else ""


PENDING_WORDS = frozenset({"pending", "outstanding", "waiting", "missing", "ausstehend", "offen"})


async def no_run(ask: Ask) -> Reply:
    assert ask.job is not None
    when = ask.period.label if ask.period else "yet"
    found = await open_alerts(ask)
    late_clause = late(ask, None, found)
    text = f"No — {ask.job.title} has not run {when}" + (f", and {late_clause}." if late_clause
                                                        else ".")
    if PENDING_WORDS & set(ask.tokens):  # "still pending?" is a yes when it has not run
        text = "Yes, still pending — " + text.removeprefix("No — ")
    if not_due := _not_due(ask):
        text = f"{text.rstrip('.')} — {not_due}."
    last = await queries.list_runs(ask.job, limit=1, session=ask.session)
    if last:
        run = last[0]
        judged = judged_from_kinds(run, {a.kind for a in current_alerts(found, run)})
        text += f" Its last run started {moment(run.started_at.astimezone(ask.zone), ask.today)}"
        text += f" and {status_phrase(run, judged, ask)}."
    else:
        text += " No run of it has been reported to OpenTrace at all."
    return Reply(text, cards.text_card(ask.job.title, text))


def _not_due(ask: Ask) -> str | None:
    """"It was not due then: it runs every Monday at 07:00 Berlin time" when the job's
    schedule had no occurrence in the period asked about."""
    assert ask.job is not None
    if ask.period is None or not ask.job.schedule or ask.period.end > ask.now:
        return None  # a period still going may have its occurrence to come
    start, end = ask.period.start.astimezone(UTC), ask.period.end.astimezone(UTC)
    if [t for t in upcoming(ask.job, start - timedelta(seconds=1), end)
                        if ask.period.covers(t)]:
        return None
    return f"it was not due then: it runs {in_words(ask.job, ask.now)}"


def state_word(state: str) -> str:
    return {"ended_early": "ended early", "unusual": "with values far from usual"}.get(state, state)


def status_phrase(run: Run, state: str, ask: Ask) -> str:
    """How a run ended, in the words of its judged `state` (not only what the job said)."""
    if run.finished_at is None:
        return "is still running"
    ended = moment(run.finished_at.astimezone(ask.zone), ask.today)
    return {
        "succeeded": f"finished successfully {ended}",
        "failed": f"failed {ended}",
        "partial": f"ended early {ended}",
        "ended_early": f"ended early {ended}",
        "unusual": f"finished {ended} with values far from usual",
        "cancelled": f"was cancelled {ended}",
    }.get(state, f"ended {ended}")


async def with_run(ask: Ask, render: Callable[[Ask, RunFacts], str], *,
                   prefer_bad: bool = False, run: Run | None = None) -> Reply:
    """The common shape: find the run (unless given), gather its facts, render the text,
    attach the card."""
    run = run or await the_run(ask, prefer_bad=prefer_bad)
    if run is None:
        return await no_run(ask)
    assert ask.job is not None
    facts = await run_facts(ask.job, run, ask.zone, session=ask.session)
    text = render(ask, facts)
    late_clause = late(ask, run, await open_alerts(ask))
    if late_clause:  # the watcher's judgement joins the first sentence
        first, _, rest = text.partition("\n")
        text = f"{first.rstrip('.')}; {late_clause}." + (f"\n{rest}" if rest else "")
    headline = text.split("\n", 1)[0]
    return Reply(text, cards.run_card(headline, facts))


# --- did it run / is it done ---------------------------------------------------------------

def verdict(ask: Ask, facts: RunFacts, *, yes_no: bool = True) -> str:
    """The first sentence about a run: did it do what it should. Without `yes_no`, for
    questions that are not yes/no questions ("why did it fail?")."""
    text = _verdict(ask, facts)
    if yes_no and asks_if_failed(ask):  # "did it fail?": yes when it did
        said = text.split(" — ", 1)[-1]
        if text.startswith("No"):
            return f"Yes — {said}"
        return f"No — {said}" if not text.startswith("Not yet") else f"Not so far — {said}"
    if yes_no and asks_if_running(ask) and facts.state != "running":
        return f"No — it is not running: {text.split(' — ', 1)[-1]}"
    if yes_no and asks_if_running(ask) and facts.state == "running":
        return f"Yes — {text.split(' — ', 1)[-1]}"
    if yes_no:
        return text
    return capital(text.split(" — ", 1)[-1])


def asks_if_failed(ask: Ask) -> bool:
    """"Did it fail?", "has the import failed" — a yes/no question whose yes is bad news."""
    tokens = ask.text.split()
    return bool(tokens) and tokens[0] in ("did", "has", "was", "is") and bool(
        {"fail", "failed", "failing", "crash", "crashed", "break", "broke", "problem", "problems",
         "issue", "issues", "trouble"} & set(tokens))


def asks_if_running(ask: Ask) -> bool:
    """"Is it running?" asks about now: a run that already ended is a No, whatever its state."""
    return bool(RUNNING_WORDS & set(ask.tokens)) and "late" not in ask.tokens


def _verdict(ask: Ask, facts: RunFacts) -> str:
    who = subject(ask, facts)
    started = clock_time(facts.started_at)
    stopped = last_reached(facts)
    missing = [m.name for m in facts.milestones if m.status == "missing"]
    if facts.status == "running" and facts.progress is not None and facts.progress.total and \
            {"halfway", "half"} & set(ask.tokens):  # "has it passed the halfway mark yet?"
        share = facts.progress.done / facts.progress.total
        return (f"{'Yes' if share >= 0.5 else 'Not yet'} — {who} is {share:.0%} done"
                f"{progress_clause(facts)}.")
    if facts.status == "running":
        return f"Not yet — {who} started at {started} and is still running{progress_clause(facts)}."
    ended = clock_time(facts.finished_at) if facts.finished_at else "?"
    took = f" after {duration(facts.duration_seconds)}" if facts.duration_seconds else ""
    if facts.state == "succeeded":
        return f"Yes — {who} started at {started} and finished successfully at {ended}{took}."
    after = f" after {quoted(stopped)}" if stopped else ""
    not_reached = f" and did not reach {listing([quoted(n) for n in missing])}" if missing else ""
    said = " (it reported success)" if facts.status == "succeeded" else ""
    if facts.state == "unusual":  # it did finish, but with a value far from usual
        return f"Yes, but — {who} finished at {ended}{took} with {listing(unusual_values(facts))}."
    if facts.state in ("partial", "ended_early"):
        return (f"No — {who} started at {started} but stopped early{after}{not_reached}{said}; "
                f"it ended at {ended}.")
    if facts.status == "failed":
        reason = f": {facts.summary.rstrip('.')}" if facts.summary else ""
        tail = f" It did not reach {listing([quoted(n) for n in missing])}." if missing else ""
        return f"No — {who} started at {started} and failed at {ended}{after}{reason}.{tail}"
    return f"No — {who} was cancelled at {ended}{after}."


def unusual_values(facts: RunFacts) -> list[str]:
    """"8,911 rows skipped (usually 30 to 50)" for each value far from usual."""
    return [f"{counted(m)} (usually {number(m.usual.low)}–{number(m.usual.high)})" if m.usual
            else counted(m) for m in facts.metrics if m.unusual] or ["values far from usual"]


def counted(metric: MetricFact) -> str:
    """"2 filings rejected", not "2 filings filings rejected" when the unit begins the name."""
    name = label(metric.name)
    if metric.unit and name.split()[0] in (metric.unit, f"{metric.unit}s"):
        return f"{number(metric.value)} {name}"
    return f"{quantity(metric.value, metric.unit)} {name}"


def last_reached(facts: RunFacts) -> str | None:
    reached = [m for m in facts.milestones if m.status == "reached" and m.at is not None]
    return max(reached, key=lambda m: m.at or facts.started_at).name if reached else None


def progress_clause(facts: RunFacts, *, with_eta: bool = True) -> str:
    progress = facts.progress
    if progress is None:
        return ""
    parts = []
    if progress.stage:
        parts.append(f"stage {quoted(progress.stage)}")
    if progress.total:
        share = 100 * progress.done / progress.total
        parts.append(f"{share:.0f}% done: {number(progress.done)} of "
                     f"{quantity(progress.total, progress.unit)}")
    else:
        parts.append(f"{quantity(progress.done, progress.unit)} done")
    if progress.eta and with_eta:
        parts.append(f"expected to finish about {clock_time(progress.eta)}")
    return " (" + ", ".join(parts) + ")"


LEFT_WORDS = frozenset({"left", "remaining", "remain", "noch", "uebrig", "rest", "to go"})


def progress_answer(ask: Ask, f: RunFacts) -> str:
    """"26 of 64 warehouses left" or "38 of 64 warehouses done", with the stage and the end."""
    p = f.progress
    assert p is not None
    who = capital(subject(ask, f))
    if p.total and LEFT_WORDS & set(ask.tokens):
        first = f"{who} has {quantity(p.total - p.done, p.unit)} left of {number(p.total)}"
    else:
        first = f"{who} has done {progress_clause(f, with_eta=False).strip(' ()')}"
    stage = f", stage {quoted(p.stage)}" if p.stage else ""
    eta = f"; expected to finish about {clock_time(p.eta)}" if p.eta else ""
    return f"{first} (reported at {clock_time(p.at)}{stage}){eta}."


def details(facts: RunFacts, ask: Ask) -> list[str]:
    """The facts that matter, each with its usual value."""
    lines = [metric_line(m) for m in sorted(facts.metrics, key=lambda m: not m.unusual)]
    reached = [m for m in facts.milestones if m.status == "reached"]
    failed = [m for m in facts.milestones if m.status == "failed"]
    missing = [m for m in facts.milestones if m.status == "missing"]
    if reached:
        lines.append("Milestones reached: " + ", ".join(
            f"{m.name} ({clock_time(m.at)})" if m.at else m.name for m in reached))
    for m in failed:
        lines.append(f"Milestone {quoted(m.name)} failed" + (f": {m.text}" if m.text else ""))
    if missing:
        lines.append("Not reached (usually reached): " + ", ".join(m.name for m in missing))
    if facts.duration_seconds is not None:
        usual_part = (f" (usually {duration(facts.usual_duration_seconds)})"
                      if facts.usual_duration_seconds else "")
        lines.append(f"Duration: {duration(facts.duration_seconds)}{usual_part}")
    for note in facts.notes:
        if note.level in ("warning", "error"):
            lines.append(f"{note.level.capitalize()} at {clock_time(note.at)}: {note.text[:300]}")
    if facts.inputs:
        lines.append("Input: " + ", ".join(facts.inputs[:5]))
    if facts.outputs:
        lines.append("Output: " + ", ".join(facts.outputs[:5]))
    return lines


def metric_line(metric: MetricFact) -> str:
    return f"{label(metric.name).capitalize()}: {quantity(metric.value, metric.unit)}{usual_clause(metric)}"


def usual_clause(metric: MetricFact) -> str:
    if metric.usual is None:
        return ""
    u = metric.usual
    span = f", range {number(u.low)}–{number(u.high)}" if u.low != u.high else ""
    flag = " — far from usual" if metric.unusual else ""
    return f" (usually about {number(u.median)}{span}){flag}"


def label(metric_name: str) -> str:
    return metric_name.replace("_", " ").replace("-", " ").replace(".", " ")


def with_details(first: str, facts: RunFacts, ask: Ask) -> str:
    lines = details(facts, ask)
    return first + ("\n" + "\n".join(f"- {line}" for line in lines) if lines else "")


async def status(ask: Ask) -> Reply:
    if ask.period is None and await missed_since_last_run(ask):
        return await no_run(ask)  # "has it started yet?": the occurrence due, not the last run
    asks_when = ask.text.startswith(("what time", "when "))  # a time, not a yes or no
    reply = await with_run(ask, lambda a, f: with_details(verdict(a, f, yes_no=not asks_when), f, a))
    if earlier := await earlier_failures(ask):
        first, _, rest = reply.text.partition("\n")
        return Reply(f"{first} {earlier}" + (f"\n{rest}" if rest else ""), reply.card)
    return reply


async def earlier_failures(ask: Ask) -> str:
    """"Before it, the run at 04:00 failed." when the day's answer is a rerun."""
    if ask.period is None or ask.job is None:
        return ""
    runs = await queries.list_runs(ask.job, since=ask.period.start, until=min(ask.period.end, ask.now),
                                   limit=10, session=ask.session)
    if len(runs) < 2 or runs[0].status in BAD_STATUSES or FAILURE_WORDS & set(ask.tokens):
        return ""
    bad = [r for r in runs[1:] if r.status in BAD_STATUSES]
    if not bad:
        return ""
    said = listing([f"the run at {clock_time(r.started_at.astimezone(ask.zone))} {r.status}"
                    for r in reversed(bad)])
    return f"Before it, {said}."


async def missed_since_last_run(ask: Ask) -> bool:
    """The watcher found an occurrence that did not start, after the job's latest run."""
    assert ask.job is not None
    missed = [a for a in await open_alerts(ask) if a.kind == "did_not_start"]
    if not missed:
        return False
    last = await queries.list_runs(ask.job, limit=1, session=ask.session)
    due = max(a.occurrence_at or a.opened_at for a in missed)
    return not last or due > last[0].started_at


# --- what happened / why did it fail -------------------------------------------------------

async def failure(ask: Ask) -> Reply:
    if ask.period is None and await missed_since_last_run(ask):
        return await did_not_start(ask)  # "any error for the missing run?": it never started

    def render(a: Ask, f: RunFacts) -> str:
        who = subject(a, f)
        warned = [n for n in f.notes if n.level in ("warning", "error")]
        if f.state == "succeeded" and warned:
            said = "; ".join(f"{n.level} at {clock_time(n.at)}: {n.text[:300]}" for n in warned[:3])
            asked = bool({"warning", "warnings", "warn", "note", "notes", "message", "messages"}
                         & set(a.tokens))
            first = (f"{'Yes — ' if asked else ''}{capital(who) if not asked else who} finished "
                     f"successfully, with {len(warned)} {'note' if len(warned) == 1 else 'notes'} "
                     f"worth a look: {said}.")
        elif f.state == "succeeded":
            asked = a.yes_no_question or bool({"anything", "logged"} & set(a.tokens))
            when = f" (started {clock_time(f.started_at)}, finished {clock_time(f.finished_at)})" \
                if f.finished_at else ""
            first = (f"No — nothing was logged as a warning or error: {who} finished successfully"
                     f"{when}." if asked else f"Nothing went wrong — {who} finished successfully{when}.")
        elif f.status == "running":
            first = f"{capital(who)} is still running{progress_clause(f)}; nothing has failed so far."
        else:
            first = verdict(a, f, yes_no=False)
            failed = [m for m in f.milestones if m.status == "failed"]
            if failed:
                first += f" The milestone that failed: {quoted(failed[0].name)}"
                first += f" ({failed[0].text})." if failed[0].text else "."
        return with_details(first, f, a)

    return await with_run(ask, render, prefer_bad=True)


async def did_not_start(ask: Ask) -> Reply:
    """Why the latest occurrence has no run: nothing was logged, because nothing started."""
    assert ask.job is not None
    late_clause = late(ask, None, await open_alerts(ask))
    yes_no = bool(set(ask.text.split()[:3]) & YES_NO_START)  # "dana here - any error logged?"
    text = (f"{'No — n' if yes_no else 'N'}othing was logged: {ask.job.title} did not start"
            + (f" ({late_clause.removeprefix('it is late: ')})" if late_clause else "")
            + ", so OpenTrace has no run, error or note from it. If it should have run, look at "
              "whatever starts it (its scheduler or host).")
    reply = await no_run(ask)
    _, _, rest = reply.text.partition(" Its last run")
    return Reply(text + (f" Its last run{rest}" if rest else ""), cards.text_card(ask.job.title, text))


# --- how many / is that normal --------------------------------------------------------------

AMOUNT_WORDS = frozenset({"eur", "usd", "gbp", "chf", "amount", "value", "cost", "costs", "total",
                          "sum", "money", "price", "euro", "euros", "dollar", "dollars"})


def best_metric(tokens: list[str], metrics: Sequence[MetricFact],
                ignore: Iterable[str] = ()) -> MetricFact | None:
    """The metric the question's words name best: 'rows were skipped' → rows_skipped. The
    job's own name words (`ignore`) count for little: "invoice-export" is not a metric, but
    "how many invoices did the audit check" still means invoices_checked. "How much" leans
    to an amount (a currency, a total) and "how many" to a count."""
    own = {root(w) for w in ignore}
    asked = {root(t) for t in tokens}
    much = "much" in tokens
    scored = []
    for m in metrics:
        words = {root(w) for w in label(m.name).split()}
        hits = words & asked
        score = sum(1 if w in own else 3 for w in hits)
        if score:
            amount = bool(AMOUNT_WORDS & {w.lower() for w in (*label(m.name).split(), m.unit or "")})
            score += 1 if amount == much else 0
            scored.append((score, -len(words), m))
    if not scored:
        return None
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    best = scored[0][2]
    if much and AMOUNT_WORDS & asked and not AMOUNT_WORDS & {w.lower() for w in (
            *label(best.name).split(), best.unit or "")}:
        return None  # "how much did it cost": no amount reported, whatever else was
    return best


def asks_if_normal(ask: Ask) -> bool:
    return bool({"normal", "usual", "unusual", "expected", "typical"} & set(ask.tokens))


LIMIT_WORDS = frozenset({"limit", "limits", "within", "threshold", "allowed", "max", "maximum",
                         "min", "minimum", "sla", "grenze", "grenzwert", "tolerance", "flagged",
                         "flag", "tolerated", "acceptable"})


def _limit(ask: Ask, metric: MetricFact) -> tuple[bool, str] | None:
    """Whether the value keeps the limits its job definition sets (`expect.metrics`)."""
    expected = (ask.job.expect.get("metrics", {}) if ask.job else {}).get(metric.name)
    if not isinstance(expected, dict) or not {"min", "max"} & expected.keys():
        return None
    low, high = expected.get("min"), expected.get("max")
    within = (low is None or metric.value >= float(low)) and (high is None or metric.value <= float(high))
    said = " and ".join(part for part in (f"at least {number(float(low))}" if low is not None else "",
                                          f"at most {number(float(high))}" if high is not None else "")
                        if part)
    return within, said


def judgement(metric: MetricFact) -> str:
    if metric.usual is None:
        return "There is not enough history yet to say what is usual."
    u = metric.usual
    span = f"{number(u.low)}–{number(u.high)}" if u.low != u.high else number(u.low)
    runs = f"the last {u.runs} good runs"
    if not metric.unusual:
        return f"That is normal: usually about {number(u.median)} ({span} in {runs})."
    direction = "more" if metric.value > u.median else "fewer"
    return (f"That is far from normal: {direction} than usual, which is about "
            f"{number(u.median)} ({span} in {runs}).")


async def metric(ask: Ask) -> Reply:
    def render(a: Ask, f: RunFacts) -> str:
        chosen = best_metric(a.tokens, f.metrics, job_words(a.job) if a.job else ())
        who = subject(a, f)
        if f.progress is not None and f.progress.unit and f.status == "running" and \
                root(f.progress.unit) in {root(t) for t in a.tokens}:
            return progress_answer(a, f)  # "how many warehouses left?": the run going
        if chosen is None and f.progress is not None and (
                (f.progress.unit and root(f.progress.unit) in {root(t) for t in a.tokens})
                or not f.metrics):
            return f"{capital(who)} has done {progress_clause(f).strip(' ()')}."
        if chosen is None:
            known = listing([label(m.name) for m in f.metrics]) or "none"
            return (f"I could not tell which number you mean. {capital(who)} reported: "
                    f"{known}.")
        placed = {*label(chosen.name).split(), chosen.unit or "",
                  *((f.progress.unit or "",) if f.progress else ())}
        # "which carrier had the most …": no carrier is stored with the numbers
        if head := unplaced_head(a.text, a.job, placed, described_words(a.job)):
            known = listing([label(m.name) for m in f.metrics])
            return (f"I'm not sure: {who} reports no {head} with its numbers, only {known} "
                    f"(for example {label(chosen.name)}: {quantity(chosen.value, chosen.unit)}).")
        first = (f"{label(chosen.name).capitalize()} in {who}: "
                 f"{quantity(chosen.value, chosen.unit)}. {judgement(chosen)}")
        if LIMIT_WORDS & set(a.tokens) and (limit := _limit(a, chosen)):
            within, said = limit
            first = f"{'Yes' if within else 'No'} — {quantity(chosen.value, chosen.unit)} " \
                    f"{label(chosen.name)} in {who} is {'within' if within else 'outside'} its " \
                    f"limit ({said}, from its job definition). {judgement(chosen)}"
        elif asks_if_normal(a) and chosen.usual is not None:
            word = "No" if chosen.unusual else "Yes"
            first = (f"{word} — {counted(chosen)} in "
                     f"{who}. {judgement(chosen)}")
        others = [metric_line(m) for m in f.metrics if m is not chosen]
        return first + ("\n" + "\n".join(f"- {o}" for o in others) if others else "")

    return await with_run(ask, render, run=await _run_reporting(ask))


async def _run_reporting(ask: Ask) -> Run | None:
    """The run a metric question is about: the one asked about, or — when that is still going
    and has not reported the number named yet — the latest finished run."""
    assert ask.job is not None
    run = await the_run(ask)
    if run is None or run.finished_at is not None or ask.period is not None or \
            {"far", "now", "currently", "yet", "already", "bisher", "still", "left", "remaining",
             "noch"} & set(ask.tokens):
        return run  # "how many has it done so far": the run going
    events = await queries.run_events(run, kinds=["metric"], session=ask.session)
    own = job_words(ask.job)
    if best_named(ask.tokens, [e.name for e in events if e.name], own):
        return run
    finished = [r for r in await queries.list_runs(ask.job, until=ask.now, limit=5, session=ask.session)
                if r.finished_at is not None]
    return finished[0] if finished else run


# --- which file / what did it produce -------------------------------------------------------

async def inputs(ask: Ask) -> Reply:
    """The files a run read — or those it wrote, when the question names one of those and
    none it read ("wo liegt die disputes-datei?": the disputes file is an output)."""
    return await with_run(ask, lambda a, f: files(a, f, reading=not _names_an_output(a, f)))


READ_WORDS = frozenset({"read", "reads", "load", "loaded", "loads", "import", "imported", "input",
                        "inputs", "source", "gelesen", "eingelesen", "consume", "consumed", "pick",
                        "picked", "ingest", "ingested"})


def _names_an_output(ask: Ask, f: RunFacts) -> bool:
    asked = {root(t) for t in ask.tokens if len(t) >= 4} - {root(w) for w in job_words(ask.job)} \
        if ask.job else set()

    def named(paths: list[str]) -> bool:
        return any(asked & {root(w) for w in re.split(r"[^a-z0-9]+", p.lower()) if w} for p in paths)
    if f.outputs and not f.inputs and not READ_WORDS & set(ask.tokens):
        return True  # "which file is the week 46 report?": the only file the run names
    return bool(f.outputs) and named(f.outputs) and not named(f.inputs)


async def outputs(ask: Ask) -> Reply:
    """What a run produced; when it produced nothing (yet), what the last run that did wrote."""
    before = ""
    run = await the_run(ask)
    if run is not None and ask.job is not None and not (
            await run_facts(ask.job, run, ask.zone, session=ask.session)).outputs:
        before = await last_outputs(ask, run)
    return await with_run(ask, lambda a, f: files(a, f, reading=False) + before)


async def last_outputs(ask: Ask, run: Run) -> str:
    assert ask.job is not None
    for earlier in await queries.list_runs(ask.job, until=run.started_at, limit=5, session=ask.session):
        facts = await run_facts(ask.job, earlier, ask.zone, session=ask.session)
        if facts.outputs:
            day = day_name(facts.started_at.date(), ask.today)
            return (f" The last run that did ({day} at {clock_time(facts.started_at)}) wrote "
                    f"{listing(facts.outputs[:5])}.")
    return ""


def files(ask: Ask, f: RunFacts, *, reading: bool) -> str:
    """What a run read, or what it produced; when it reported nothing, why that may be."""
    who = capital(subject(ask, f))
    found = f.inputs if reading else f.outputs
    yes_no = ask.yes_no_question
    if found:
        folders = sorted({p.rsplit("/", 1)[0] + "/" for p in found if "/" in p.strip("/")})
        where = f" (in {listing(folders[:3])})" if folders and FOLDER_WORDS & set(ask.tokens) else ""
        return f"{'Yes — ' if yes_no else ''}{who} {'read' if reading else 'produced'} " \
               f"{listing(found[:5])}{where}."
    if reading:
        return f"{who} did not report an input file. Jobs report it as a payload named like 'input-file'."
    missing = [m.name for m in f.milestones if m.status == "missing"]
    tail = (f" It did not reach {listing([quoted(n) for n in missing])}, which it usually does."
            if missing else "")
    return f"{'No — ' if yes_no else ''}{who} reported no output.{tail}"


# --- how long -------------------------------------------------------------------------------

async def took(ask: Ask) -> Reply:
    def render(a: Ask, f: RunFacts) -> str:
        who = subject(a, f)
        usual_part = (f" (usually {duration(f.usual_duration_seconds)})"
                      if f.usual_duration_seconds else "")
        if part := part_of_run(a, f):
            return part
        if f.duration_seconds is None:
            running = (a.now - f.started_at).total_seconds()
            return (f"{capital(who)} is still running: {duration(running)} so far"
                    f"{usual_part}{progress_clause(f)}.")
        return f"{capital(who)} took {duration(f.duration_seconds)}{usual_part}."

    return await with_run(ask, render)


UNTIL_WORDS = frozenset({"until", "till", "to", "reach", "reached", "get", "bis"})


def part_of_run(ask: Ask, f: RunFacts) -> str | None:
    """How long a part of the run took: a step it timed ("the db load"), the time between
    two milestones, or from the start to one ("how long until the tariffs were published")."""
    who = subject(ask, f)
    own = job_words(ask.job) if ask.job else set()
    if step := best_named(ask.tokens, list(f.steps), own):
        return f"{label(step).capitalize()} in {who} took {duration(f.steps[step])}."
    reached = {m.name: m.at for m in f.milestones if m.status == "reached" and m.at}
    named = named_all(ask.tokens, list(reached), own)
    if len(named) >= 2:
        a, b = sorted(named[:2], key=lambda n: reached[n] or f.started_at)
        gap = ((reached[b] or f.started_at) - (reached[a] or f.started_at)).total_seconds()
        return (f"From {quoted(a)} ({clock_time(reached[a] or f.started_at)}) to {quoted(b)} "
                f"({clock_time(reached[b] or f.started_at)}) {who} took {duration(gap)}.")
    if len(named) == 1 and UNTIL_WORDS & set(ask.tokens):
        at = reached[named[0]] or f.started_at
        return (f"{capital(who)} reached {quoted(named[0])} at {clock_time(at)}, "
                f"{duration((at - f.started_at).total_seconds())} after it started at "
                f"{clock_time(f.started_at)}.")
    return None


async def usual_duration(ask: Ask) -> Reply:
    assert ask.job is not None
    history = await successful_history(ask.job, before=ask.now, session=ask.session)
    if step := await _usual_step(ask, history.runs):
        return step  # "how long does the db load usually take?"
    durations = history.durations
    if not durations:
        text = f"{ask.job.title} has no successful run yet, so I cannot say how long it usually takes."
        return Reply(text, cards.text_card(ask.job.title, text))
    typical = usual(durations)
    if typical is None:
        text = (f"{ask.job.title} has only {len(durations)} successful run(s) so far; they took "
                f"{listing([duration(d) for d in durations])}.")
    else:
        spread = (f"; between {duration(typical.low)} and {duration(typical.high)}"
                  if duration(typical.low) != duration(typical.high) else "")
        text = (f"{ask.job.title} usually takes {duration(typical.median)} (median of the last "
                f"{typical.runs} successful runs{spread}).")
    return Reply(text, cards.text_card(ask.job.title, text))


async def _usual_step(ask: Ask, runs: Sequence[Run]) -> Reply | None:
    """How long a step the runs time ("db-load") usually takes, when the question names one."""
    assert ask.job is not None
    own = job_words(ask.job)
    if not {w for w in ask.text.split() if w not in QUESTION_STOP and w not in own and len(w) > 2}:
        return None  # "how long does it usually take?": the whole run
    events = await queries.events_of_runs([r.id for r in runs[-20:] if r.id is not None],
                                          session=ask.session)
    steps: dict[str, list[float]] = {}
    for found in events.values():
        for e in found:
            if e.kind == "duration" and e.name and e.value is not None:
                steps.setdefault(e.name, []).append(float(e.value))
    step = best_named(ask.tokens, list(steps), own)
    if step is None:
        return None
    typical = usual(steps[step])
    if typical is None:
        said = listing([duration(s) for s in steps[step]])
        text = f"{label(step).capitalize()} in {ask.job.title} took {said} in its successful runs so far."
    else:
        spread = (f"; between {duration(typical.low)} and {duration(typical.high)}"
                  if duration(typical.low) != duration(typical.high) else "")
        text = (f"{label(step).capitalize()} in {ask.job.title} usually takes "
                f"{duration(typical.median)} (median of the last {typical.runs} successful runs"
                f"{spread}).")
    return Reply(text, cards.text_card(ask.job.title, text))


async def eta(ask: Ask) -> Reply:
    def render(a: Ask, f: RunFacts) -> str:
        who = subject(a, f)
        if f.progress is not None and f.finished_at is None and \
                {"last", "latest"} & set(a.tokens) and {"progress", "report", "reported"} & set(a.tokens):
            return (f"{capital(who)} last reported progress at {clock_time(f.progress.at)}"
                    f"{progress_clause(f)}.")
        if f.finished_at is not None:
            got = last_reached(f)
            got_to = f"; it got as far as {quoted(got)}" if got and f.state != "succeeded" else ""
            return (f"{capital(who)} already ended at {clock_time(f.finished_at)} "
                    f"({state_word(f.state)}){got_to}.")
        if f.progress and f.progress.eta:
            return (f"{capital(who)} should be done at about {clock_time(f.progress.eta)}"
                    f"{progress_clause(f, with_eta=False)}.")
        if f.usual_duration_seconds:
            expected = f.started_at.timestamp() + f.usual_duration_seconds
            at = datetime.fromtimestamp(expected, a.zone)
            return (f"{capital(who)} started at {clock_time(f.started_at)} and usually "
                    f"takes {duration(f.usual_duration_seconds)}, so expect it at about "
                    f"{clock_time(at)}{progress_clause(f)}.")
        return (f"{capital(who)} is still running{progress_clause(f)}; it reports no "
                f"total and has no history yet, so I cannot estimate the end.")

    return await with_run(ask, render)


# --- all jobs -------------------------------------------------------------------------------

async def job_lines(ask: Ask) -> list[JobLine]:
    """Every job's latest run as the watcher judged it: its open alerts decide the state and
    the problem, so the list agrees with the alerts and with each job's own answer."""
    lines = []
    jobs = await ask.visible_jobs()
    snapshots = await ask.state.snapshots([job.id or 0 for job in jobs], session=ask.session)
    by_job = await alerts.unresolved_alerts_by_job(session=ask.session)
    for job in jobs:
        snapshot = snapshots[job.id or 0]
        run = snapshot.last_run
        current = current_alerts(by_job.get(job.id or 0, []), run)
        problem = alert_problem(current) or await problem_of(ask, job, snapshot)
        state = judged_from_kinds(run, {a.kind for a in current}) if run else "unknown"
        lines.append(JobLine(
            job=job.slug, title=job.title, state=state,
            last_started_at=run.started_at.astimezone(ask.zone) if run else None,
            last_finished_at=run.finished_at.astimezone(ask.zone) if run and run.finished_at else None,
            problem=problem))
    return lines


def current_alerts(found: Sequence[Alert], run: Run | None) -> list[Alert]:
    """The open alerts about the job's latest run, or about an occurrence after it began."""
    return [a for a in found if (run is not None and a.run_id == run.id) or (
        a.run_id is None and (run is None or (a.occurrence_at or a.opened_at) >= run.started_at))]


def alert_problem(found: list[Alert]) -> str | None:
    """The watcher's reasons, lateness first ("late: …" is what "anything late?" lists)."""
    if not found:
        return None
    ranked = sorted(found, key=lambda a: a.kind not in LATENESS)
    reasons = "; ".join(a.reason.rstrip(".") for a in ranked)
    return f"late: {reasons}" if ranked[0].kind in LATENESS else reasons


async def problem_of(ask: Ask, job: Job, snapshot: Snapshot) -> str | None:
    """A plain-language reason when a job needs attention, judged from its own history
    (its latest run and recent start times, oldest first)."""
    run = snapshot.last_run
    if run is None:
        return None
    if run.status in ("failed", "partial", "cancelled"):
        return f"last run {status_phrase(run, run.status, ask)}"
    if snapshot.usual_gap is not None:
        # Late: the usual gap between starts has passed, by more than its usual wobble.
        gap, wobble = snapshot.usual_gap
        since = (ask.now - run.started_at).total_seconds()
        if since > gap + max(3 * wobble, 0.1 * gap, MIN_LATE_MARGIN):
            return (f"late: usually runs every {duration(gap)}, last started "
                    f"{moment(run.started_at.astimezone(ask.zone), ask.today)}")
    if run.finished_at is None:
        typical = await ask.state.usual_runtime(job, snapshot, ask.now, session=ask.session)
        running = (ask.now - run.started_at).total_seconds()
        if typical and running > 2 * typical.high:
            return f"running for {duration(running)}, usually takes {duration(typical.median)}"
    return None


MAX_LISTED = 25  # jobs listed under an overview's first sentence, besides those with problems
LATE_WORDS = frozenset({"late", "behind", "overdue", "delayed", "verspaetet"})
RUNNING_WORDS = frozenset({"running", "going", "active", "laeuft", "läuft", "laufen", "progress",
                           "busy"})
FOLDER_WORDS = frozenset({"folder", "folders", "where", "directory", "dir", "path", "location",
                          "ordner", "wo", "verzeichnis", "end", "land", "put"})
YES_NO_START = frozenset({"is", "are", "was", "were", "did", "has", "have", "does", "do", "any",
                          "anything", "ist", "sind", "gibt", "hat", "war"})


WELL_WORDS = frozenset({"clean", "ok", "okay", "fine", "good", "smooth", "smoothly", "alright",
                        "well", "green", "gut", "sauber"})
BAD_WORDS = frozenset({"wrong", "broken", "broke", "fail", "failed", "late", "issues", "issue",
                       "problems", "problem", "errors", "error", "worry"})


def yes_no(ask: Ask) -> tuple[bool, bool]:
    """(whether the question wants a yes or a no, whether "yes" means all is well): "is
    anything broken?" is yes when something is; "did everything go ok?" is no then."""
    tokens = ask.text.split()
    asks = bool(tokens) and (tokens[0] in YES_NO_START or "anything" in tokens
                             or tokens[0] in ("all", "alles", "everything"))
    well = bool(WELL_WORDS & set(tokens)) and not (BAD_WORDS & set(tokens))
    return asks, well or bool({"everything", "alles"} & set(tokens)) or "all" in tokens[:3]


def polar(answer: bool, first: str, ask: Ask) -> str:
    """ "Yes — …" / "No — …" before `first` when the question is a yes/no question;
    `answer` is whether something is wrong."""
    asks, all_well = yes_no(ask)
    if not asks:
        return first
    word = "Yes" if answer != all_well else "No"
    return f"{word} — {first[:1].lower() + first[1:] if not first.startswith('All') else first}"


async def overview(ask: Ask) -> Reply:
    lines = await job_lines(ask)
    if not lines:
        return await no_jobs(ask)
    troubled = [line for line in lines if line.problem]
    asked_late = bool(LATE_WORDS & set(ask.tokens))
    running = [line for line in lines if line.state == "running"]
    if RUNNING_WORDS & set(ask.tokens) and not asked_late:
        owners = await _owners(ask) if OWNER_WORDS & set(ask.tokens) else {}
        said = "; ".join([f"{line.title}{owners.get(line.job, '')} (since "
                          f"{clock_time(line.last_started_at)}{await progress_of(ask, line.job)})"
                          for line in running if line.last_started_at])
        counted = f"{len(running)} job{'s' if len(running) != 1 else ''} running now: " \
            if len(running) > 0 else ""
        first = polar(bool(running), f"{counted[:1].upper()}{counted[1:]}{said}." if running else
                      "Nothing is running right now.", ask)
    elif asked_late:
        late = [line for line in troubled if line.problem and line.problem.startswith("late")]
        first = polar(bool(late), "Nothing looks late." if not late else
                      "Late: " + "; ".join(f"{line.title} ({line.problem})" for line in late) + ".",
                      ask)
    elif troubled:
        owners = await _owners(ask) if OWNER_WORDS & set(ask.tokens) else {}
        causes = await _causes(ask, troubled) if CAUSE_WORDS & set(ask.tokens) else {}
        first = polar(True, f"{len(troubled)} of {len(lines)} jobs need attention: "
                      + "; ".join(f"{line.title}{owners.get(line.job, '')} — {line.problem}"
                                  f"{causes.get(line.job, '')}" for line in troubled) + ".", ask)
    else:
        first = polar(False, f"All {len(lines)} jobs look fine.", ask)
    # A fleet of thousands is not read line by line: what needs attention, then a few more.
    listed = sorted(lines, key=lambda line: not line.problem)[:max(MAX_LISTED, len(troubled))]
    rest = [f"{line.title}: {describe_line(line, ask)}" for line in listed]
    if len(lines) > len(listed):
        rest.append(f"… and {len(lines) - len(listed)} more jobs with nothing to report")
    text = first + "\n" + "\n".join(f"- {r}" for r in rest)
    return Reply(text, cards.jobs_card(first, listed))


CAUSE_WORDS = frozenset({"why", "cause", "caused", "causes", "reason", "reasons", "root", "warum",
                         "wieso", "grund", "ursache", "explain", "explanation"})


async def _causes(ask: Ask, troubled: list[JobLine]) -> dict[str, str]:
    """" (it said: …)" by slug: what the latest run of each job needing attention logged as a
    warning or error, or its finish text — for "what's the root cause of this morning's mess?"."""
    found: dict[str, str] = {}
    by_slug = {job.slug: job for job in await ask.visible_jobs()}
    for line in troubled[:MAX_LISTED]:
        job = by_slug.get(line.job)
        runs = await queries.list_runs(job, until=ask.now, limit=1, session=ask.session) if job else []
        if runs and (said := await cause_of(runs[0], ask)):
            found[line.job] = said
    return found


async def cause_of(run: Run, ask: Ask) -> str:
    """" (it said: …)": the first warning or error the run logged, or its finish text."""
    notes = [e for e in await queries.run_events(run, kinds=["note"], session=ask.session)
             if e.data.get("level") in ("warning", "error") and e.data.get("text")]
    said = str(notes[0].data["text"]) if notes else run.summary
    return f" (it said: {said[:200]})" if said else ""


OWNER_WORDS = frozenset({"who", "whom", "whose", "contact", "owner", "owners", "talk", "ping",
                         "call", "wer", "responsible", "zustaendig"})


async def _owners(ask: Ask) -> dict[str, str]:
    """" (owner Katrin Vogel)" by slug, for "what's broken and who do I talk to?"."""
    return {job.slug: f" (owner {job.owner})" if job.owner else " (no owner set)"
            for job in await ask.visible_jobs()}


async def progress_of(ask: Ask, slug: str) -> str:
    """", stage 'forecasting', 59% done: 38 of 64 warehouses" for a running job's latest run."""
    job = next((j for j in await ask.visible_jobs() if j.slug == slug), None)
    runs = await queries.list_runs(job, limit=1, session=ask.session) if job else []
    if not runs or job is None:
        return ""
    facts = await run_facts(job, runs[0], ask.zone, session=ask.session)
    clause = progress_clause(facts)
    return f", {clause.strip(' ()')}" if clause else ""


def describe_line(line: JobLine, ask: Ask) -> str:
    if line.last_started_at is None:
        return "no runs yet"
    started = moment(line.last_started_at, ask.today)
    if line.state == "running":
        return f"running since {started.removeprefix('at ')}"
    ended = f", ended {moment(line.last_finished_at, ask.today)}" if line.last_finished_at else ""
    return f"{state_word(line.state)} (started {started}{ended})"


async def jobs(ask: Ask) -> Reply:
    all_jobs = await ask.visible_jobs()
    if not all_jobs:
        return await no_jobs(ask)
    items = []
    for job in all_jobs:
        aka = f"; also {listing([quoted(a) for a in job.aliases])}" if job.aliases else ""
        items.append(f"{job.title} ({job.slug}{aka})")
    text = f"I know {len(all_jobs)} job{'s' if len(all_jobs) != 1 else ''}:\n" + "\n".join(
        f"- {i}" for i in items)
    return Reply(text, cards.text_card("Jobs I know", text))


async def no_jobs(ask: Ask) -> Reply:
    text = ("No job has reported to OpenTrace yet. A job appears here after its first event "
            "(POST /v1/events, a ping, or `opentrace exec`).")
    return Reply(text, cards.text_card("No jobs yet", text))


HELP = """I answer questions about your batch jobs from what they report. Try:
- did the import run today? / is it still running? / has it finished?
- what happened last night? / why did it fail? / where did it stop?
- how many rows were skipped last night? is that normal?
- which file did it read? / what did it produce?
- how long did it take? / how long does it usually take? / when will it be done?
- anything late? / is anything broken? / status of everything
- what jobs do you know?
Name a job by its name or a nickname ("the import"); say today, last night, yesterday, Monday or 24 Nov."""


async def help_reply(ask: Ask) -> Reply:
    return Reply(HELP, cards.text_card("What you can ask", HELP))


HANDLERS: dict[str, Handler] = {
    "help": help_reply,
    "jobs": jobs,
    "overview": overview,
    "eta": eta,
    "usual_duration": usual_duration,
    "duration": took,
    "input": inputs,
    "output": outputs,
    "failure": failure,
    "metric": metric,
    "status": status,
}
