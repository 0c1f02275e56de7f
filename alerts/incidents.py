"""Incidents: the alerts that tell of one thing going wrong, told to people as one card that
grows as facts arrive.

An incident is one run of a job — everything found about it: ended early, a metric far from
usual, a milestone missed, failed, running too long — or one scheduled occurrence: a start
that did not come, and the late run that followed it (the first run that started in the
occurrence's window, as the watcher counts it). It is worked out from the alerts' own
`run_id` and `occurrence_at`, so nothing is stored for it and replicas always agree. Its id
is its first alert's.

A milestone missed by a run that had already ended, where an earlier alert of the incident
said that it ended early or failed, *repeats* that alert: it adds only that the deadline
passed, so it never becomes the headline and is not posted again where a card cannot be
updated (webhooks)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.schedule import cron_trigger, shortest_gap
from storage import incidents
from storage.alert_states import RESOLVED
from storage.alerts import Alert
from storage.models import Job, Run

DID_NOT_START, MILESTONE_MISSED = "did_not_start", "milestone_missed"
REPEATED_BY = ("ended_early", "failed")  # what a later missed milestone of the run repeats
# Among alerts found at the same moment, the one that leads the card: the worst news first.
SEVERITY = ("metric_out_of_range", "stalled", "overran", MILESTONE_MISSED, DID_NOT_START,
            "ended_early", "failed")
EARLY = timedelta(hours=1)  # a run may start this much before its occurrence (as the watcher)
ROUNDS = 3  # alert -> its run and occurrence -> their alerts, until nothing new turns up


@dataclass(frozen=True)
class Incident:
    job: Job
    alerts: list[Alert]  # oldest first
    runs: dict[int, Run]  # the runs its alerts are about

    @property
    def id(self) -> int:
        return self.alerts[0].id or 0

    @property
    def alert_ids(self) -> list[int]:
        return [alert.id or 0 for alert in self.alerts]

    @property
    def resolved(self) -> bool:
        return all(alert.state == RESOLVED for alert in self.alerts)

    def newest_first(self) -> list[Alert]:
        """Latest found first; of those found at the same moment, the worst first."""
        return sorted(self.alerts, reverse=True,
                      key=lambda a: (a.opened_at, _severity(a.kind), a.id or 0))

    @property
    def headline(self) -> Alert:
        """The newest alert that says something new, still open if one is."""
        news = [alert for alert in self.newest_first() if not self.repeats(alert)] \
            or self.newest_first()
        return next((alert for alert in news if alert.state != RESOLVED), news[0])

    @property
    def run(self) -> Run | None:
        """The run the incident is about (a missed start alone has none)."""
        return max(self.runs.values(), key=lambda run: run.started_at, default=None)

    def repeats(self, alert: Alert) -> bool:
        """Whether `alert` only repeats an earlier one: a milestone missed by a run that had
        already ended, after the incident told that it ended early or failed."""
        if alert.kind != MILESTONE_MISSED or alert.run_id is None:
            return False
        run = self.runs.get(alert.run_id)
        if run is None or run.finished_at is None or run.finished_at > alert.opened_at:
            return False
        return any(other.id != alert.id and other.run_id == alert.run_id
                   and other.kind in REPEATED_BY and other.opened_at <= alert.opened_at
                   for other in self.alerts)


async def incident_of(alert: Alert, *, session: AsyncSession) -> Incident:
    """The incident `alert` belongs to, with every alert of it as stored now."""
    job = await session.get(Job, alert.job_id)
    assert job is not None, f"alert {alert.id} of a job that does not exist"
    found = {alert.id or 0: alert}
    runs: dict[int, Run] = {}
    moments: set[datetime] = set()
    looked: set[tuple[str, int]] = set()  # ("alert" | "run", id): its link was looked for
    for _ in range(ROUNDS):
        runs.update(await incidents.runs_by_id(
            {a.run_id for a in found.values() if a.run_id} - set(runs), session=session))
        moments |= {a.occurrence_at for a in found.values() if a.occurrence_at}
        if job.schedule:
            await _link_missed_starts(job, found, runs, moments, looked, session=session)
        more = await incidents.alerts_about(job.id or 0, set(runs), moments, session=session)
        if {a.id for a in more} <= set(found):
            break
        found.update((a.id or 0, a) for a in more)
    alerts = sorted(found.values(), key=lambda a: a.id or 0)
    about = {a.run_id for a in alerts if a.run_id}
    return Incident(job, alerts, {run_id: run for run_id, run in runs.items() if run_id in about})


async def _link_missed_starts(job: Job, found: dict[int, Alert], runs: dict[int, Run],
                              moments: set[datetime], looked: set[tuple[str, int]], *,
                              session: AsyncSession) -> None:
    """Join a missed start and the late run that followed it, whichever of the two was
    found first: the run goes into `runs`, the occurrence into `moments`."""
    for alert in list(found.values()):
        if alert.kind != DID_NOT_START or alert.occurrence_at is None \
                or ("alert", alert.id or 0) in looked:
            continue
        looked.add(("alert", alert.id or 0))
        late = await late_run(job, alert.occurrence_at, session=session)
        if late is not None:
            runs.setdefault(late.id or 0, late)
    for run in list(runs.values()):
        if ("run", run.id or 0) in looked:
            continue
        looked.add(("run", run.id or 0))
        missed = await incidents.latest_alert_before(job.id or 0, DID_NOT_START, run.started_at,
                                                     session=session)
        if missed is None or missed.occurrence_at is None or missed.occurrence_at in moments:
            continue
        late = await late_run(job, missed.occurrence_at, session=session)
        if late is not None and late.id == run.id:
            moments.add(missed.occurrence_at)


async def late_run(job: Job, occurrence: datetime, *, session: AsyncSession) -> Run | None:
    """The run of an occurrence whose start was missed: the first that started after it
    within the occurrence's window, as the watcher counts it — up to the shortest gap
    between two occurrences, less the little a run may start early for the next one."""
    gap = shortest_gap(cron_trigger(job.schedule or "", job.timezone or "UTC"), occurrence)
    end = occurrence + gap - min(EARLY, gap / 4)
    return await incidents.first_run_between(job.id or 0, occurrence, end, session=session)


def _severity(kind: str) -> int:
    return SEVERITY.index(kind) if kind in SEVERITY else -1
