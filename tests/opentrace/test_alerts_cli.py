"""`opentrace alerts` shows times as the job's people read them: in the job's zone, with the
zone's name, next to reasons written in that zone ("due by 06:00")."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from opentrace.alerts_cli import print_alerts
from storage.alerts import Alert
from storage.engine import create_engine, migrate
from storage.queries import put_job


async def test_alert_times_are_in_the_jobs_zone_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'ot.db'}")
    await migrate(engine)
    opened = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        berlin = await put_job("nightly-import", {"title": "Nightly import",
                                                  "timezone": "Europe/Berlin"}, opened, session=session)
        plain = await put_job("customer-export", {"title": "Customer export"}, opened,
                              session=session)
        for job in (berlin, plain):
            session.add(Alert(job_id=job.id or 0, kind="milestone_missed", key=f"k-{job.slug}",
                              reason="'report-published' was due by 06:00", opened_at=opened))
        await session.commit()
        await print_alerts(session, None, 10, default_timezone="America/New_York")
    await engine.dispose()

    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#")]
    assert "2026-11-25 00:00 EST" in lines[0] and "customer-export" in lines[0]  # newest first
    assert "2026-11-25 06:00 CET" in lines[1] and "nightly-import" in lines[1]
