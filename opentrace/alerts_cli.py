"""`opentrace alerts`: the alerts, newest first, and what became of each delivery."""

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import alerts
from storage.models import Job


async def print_alerts(session: AsyncSession, state: str | None, limit: int) -> int:
    found = await alerts.list_alerts(session, state=state, limit=max(1, min(limit, 1000)))
    if not found:
        print("no alerts" + (f" in state {state}" if state else ""))
        return 0
    deliveries = await alerts.deliveries_of(session, [a.id or 0 for a in found])
    for alert in found:
        job = await session.get(Job, alert.job_id)
        print(f"#{alert.id}  {alert.opened_at:%Y-%m-%d %H:%M}Z  {alert.state:<12}  "
              f"{job.slug if job else '?'}  {alert.kind}")
        print(f"      {alert.reason}")
        if alert.acknowledged_by:
            print(f"      acknowledged by {alert.acknowledged_by}")
        if alert.resolution:
            print(f"      resolved: {alert.resolution}")
        for d in (d for d in deliveries if d.alert_id == alert.id):
            error = f" — {d.last_error}" if d.last_error else ""
            print(f"      {d.event} → {d.channel} {d.target}: {d.state} "
                  f"after {d.attempts} attempt(s){error}")
    return 0
