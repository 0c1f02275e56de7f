"""`opentrace alerts`: the alerts, newest first, and what became of each delivery."""

from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.targets import unreachable_targets, unreachable_warning
from alerts.wording import zoned_timestamp
from storage.alerts import alert_reports
from storage.queries import all_jobs


async def print_alerts(session: AsyncSession, state: str | None, limit: int,
                       default_timezone: str = "UTC") -> int:
    """Times are shown in each job's zone with its name ("06:00 CET"), as its alerts read."""
    for job in await all_jobs(session=session):
        for target in await unreachable_targets(session, job):
            print(f"warning: {job.slug}: {unreachable_warning(target)}")
    reports = await alert_reports(state=state, limit=max(1, min(limit, 1000)), session=session)
    if not reports:
        print("no alerts" + (f" in state {state}" if state else ""))
        return 0
    for report in reports:
        alert = report.alert
        zone = ZoneInfo(report.timezone or default_timezone)
        print(f"#{alert.id}  {zoned_timestamp(alert.opened_at, zone)}  {alert.state:<12}  "
              f"{report.job}  {alert.kind}")
        print(f"      {alert.reason}")
        if alert.acknowledged_by:
            print(f"      acknowledged by {alert.acknowledged_by}")
        if alert.resolution:
            print(f"      resolved: {alert.resolution}")
        for d in report.deliveries:
            error = f" — {d.last_error}" if d.last_error else ""
            print(f"      {d.event} → {d.channel} {d.target}: {d.state} "
                  f"after {d.attempts} attempt(s){error}")
    return 0
