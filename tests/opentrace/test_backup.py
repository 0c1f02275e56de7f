"""`opentrace backup FILE`: a consistent copy of the live SQLite database while the server
keeps ingesting; the copy restores into a server that answers. PostgreSQL gets the exact
pg_dump command instead."""

import asyncio
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from storage.clock import utc_now
from tests.conftest import Api, start_api
from tests.serving import opentrace_command

WRITE_BATCH = 20


def environment(database_url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    return {**clean, "OPENTRACE_DATABASE_URL": database_url}


def backup(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*opentrace_command(), "backup", *args], env=environment(database_url),
                          capture_output=True, text=True, timeout=60, check=False)


class Writer:
    """Sends events continuously and remembers each acknowledged event's id and when."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.acknowledged: list[tuple[float, str]] = []
        self.sent = 0
        self.stopping = False

    async def run(self) -> None:
        await self.api.send_ok({"job": "etl", "run": "busy", "kind": "start"})
        while not self.stopping:
            ids = [f"e{self.sent + i}" for i in range(WRITE_BATCH)]
            self.sent += WRITE_BATCH
            await self.api.send_ok([{"job": "etl", "run": "busy", "kind": "note", "id": i,
                                     "text": f"row {i} " + "x" * 400} for i in ids])
            now = time.monotonic()
            self.acknowledged.extend((now, i) for i in ids)

    def acknowledged_before(self, moment: float) -> set[str]:
        return {key for at, key in self.acknowledged if at < moment}


async def test_a_backup_under_write_load_restores_with_every_acknowledged_event(
    tmp_path: Path
) -> None:
    live_url, copy = f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "backup.db"
    api = await start_api(live_url, utc_now)  # type: ignore[arg-type]
    writer = Writer(api)
    writing = asyncio.create_task(writer.run())
    try:
        for _ in range(600):  # a database worth copying, still growing
            if len(writer.acknowledged) >= 3000:
                break
            await asyncio.sleep(0.05)
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *opentrace_command(), "backup", str(copy), env=environment(live_url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        output, errors = await asyncio.wait_for(process.communicate(), 60)
        finished = time.monotonic()
        await asyncio.sleep(0.3)
    finally:
        writer.stopping = True
        await writing
        await api.client.close()

    assert process.returncode == 0, errors.decode()
    assert "integrity ok" in output.decode()
    before = writer.acknowledged_before(started)
    during = writer.acknowledged_before(finished) - before
    assert len(during) >= WRITE_BATCH  # the server went on taking events while it was copied
    restored = tmp_path / "restored.db"
    stored = restore(copy, restored)
    assert before <= stored
    assert stored <= before | during

    api = await start_api(f"sqlite:///{restored}", utc_now)  # type: ignore[arg-type]
    try:
        run = await api.get_ok("/v1/jobs/etl/runs/busy")
        assert len(run["notes"]) == len(stored)
        await api.send_ok({"job": "etl", "run": "busy", "kind": "finish", "status": "succeeded"})
        assert (await api.get_ok("/v1/jobs"))["jobs"][0]["state"] == "succeeded"
    finally:
        await api.client.close()


def restore(backup_file: Path, restored: Path) -> set[str]:
    """Copy the backup where a server will use it; check it; the note ids it holds."""
    assert not Path(f"{backup_file}-wal").exists()  # one self-contained file
    shutil.copy(backup_file, restored)
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {key for (key,) in db.execute("SELECT key FROM events WHERE kind = 'note'")}


def test_an_existing_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    url, target = f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "backup.db"
    with sqlite3.connect(tmp_path / "live.db") as db:
        db.execute("CREATE TABLE t (x)")
    target.write_text("yesterday's backup")

    refused = backup(str(target), database_url=url)
    assert refused.returncode == 1
    assert "exists; give --force" in refused.stderr
    assert target.read_text() == "yesterday's backup"

    forced = backup(str(target), "--force", database_url=url)
    assert forced.returncode == 0, forced.stderr
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


def test_a_missing_database_is_not_backed_up(tmp_path: Path) -> None:
    done = backup(str(tmp_path / "b.db"), database_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert done.returncode == 1 and "no SQLite database at" in done.stderr
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "none.db").exists()


def test_postgresql_is_told_the_exact_pg_dump_command_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://ot:s3cret@db.example:5432/opentrace?sslmode=require"
    done = backup("/backups/ot.dump", database_url=url)
    assert done.returncode == 2
    assert ("pg_dump --format=custom --file=/backups/ot.dump "
            "'--dbname=postgresql://ot@db.example:5432/opentrace?sslmode=require'") in done.stderr
    assert "s3cret" not in done.stderr + done.stdout


def test_help_explains_it_with_an_example(tmp_path: Path) -> None:
    done = backup("--help", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 0
    assert "opentrace backup /backups/opentrace-$(date +%F).db" in done.stdout
    assert "--force" in done.stdout and "pg_dump" in done.stdout
