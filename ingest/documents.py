"""JSON-ready views of jobs, runs and alerts: the shapes the HTTP API answers with."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.alerts import Alert, Delivery
from storage.models import Event, Job, Run


def timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def job_state(last_run: Run | None) -> str:
    return "unknown" if last_run is None else last_run.status


def job_document(job: Job) -> dict[str, Any]:
    return {
        "job": job.slug,
        "title": job.title,
        "description": job.description,
        "aliases": list(job.aliases),
        "owner": job.owner,
        "timezone": job.timezone,
        "schedule": job.schedule,
        "expect": job.expect,
        "alert": list(job.alert),
        "audience": list(job.audience),
        "created_at": timestamp(job.created_at),
        "updated_at": timestamp(job.updated_at),
    }


def run_summary(job: Job, run: Run) -> dict[str, Any]:
    duration = None
    if run.finished_at is not None:
        duration = max(0.0, (run.finished_at - run.started_at).total_seconds())
    return {
        "job": job.slug,
        "run": run.key,
        "status": run.status,
        "started_at": timestamp(run.started_at),
        "finished_at": timestamp(run.finished_at),
        "duration_seconds": duration,
        "last_event_at": timestamp(run.last_event_at),
        "attributes": run.attributes,
        "summary": run.summary,
    }


def event_document(event: Event) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": timestamp(event.at),
        "id": event.key,
        "received_at": timestamp(event.received_at),
        **event.data,
    }


def run_report(job: Job, run: Run, events: Sequence[Event]) -> dict[str, Any]:
    """A run with its timeline folded into what people ask about: milestones in order, the
    latest value of each metric, the latest progress, notes, payloads and durations."""
    report = run_summary(job, run)
    milestones: list[dict[str, Any]] = []
    metrics: dict[str, dict[str, Any]] = {}
    progress: dict[str, Any] | None = None
    notes: list[dict[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    durations: list[dict[str, Any]] = []
    for event in events:  # ordered by `at`, so later facts overwrite earlier ones
        at = timestamp(event.at)
        data = event.data
        if event.kind == "milestone":
            milestones.append({"name": event.name, "status": event.status,
                               "text": data.get("text"), "at": at})
        elif event.kind == "metric":
            metrics[event.name or ""] = {"value": event.value, "unit": data.get("unit"), "at": at}
        elif event.kind == "progress":
            progress = {"done": data.get("done"), "total": data.get("total"),
                        "unit": data.get("unit"), "stage": data.get("stage"), "at": at}
        elif event.kind == "note":
            notes.append({"level": data.get("level", "info"), "text": data.get("text"), "at": at})
        elif event.kind == "payload":
            payloads.append({"name": event.name, "data": data.get("data"), "at": at})
        elif event.kind == "duration":
            durations.append({"name": event.name, "seconds": event.value, "at": at})
    report.update(
        milestones=milestones, metrics=metrics, progress=progress, notes=notes,
        payloads=payloads, durations=durations,
        events=[event_document(e) for e in events],
    )
    return report


def alert_document(alert: Alert, job: str, deliveries: Sequence[Delivery]) -> dict[str, Any]:
    """An alert with where it went; a failed delivery shows its last error."""
    return {
        "id": alert.id,
        "job": job,
        "kind": alert.kind,
        "state": alert.state,
        "reason": alert.reason,
        "opened_at": timestamp(alert.opened_at),
        "occurrence_at": timestamp(alert.occurrence_at),
        "resolved_at": timestamp(alert.resolved_at),
        "resolution": alert.resolution,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": timestamp(alert.acknowledged_at),
        "snoozed_until": timestamp(alert.snoozed_until),
        "deliveries": [
            {"event": d.event, "channel": d.channel, "target": d.target, "state": d.state,
             "attempts": d.attempts, "last_error": d.last_error, "sent_at": timestamp(d.sent_at)}
            for d in deliveries
        ],
    }
