"""`opentrace backup FILE`: a consistent copy of the live SQLite database, taken while the
server keeps running and ingesting.

The copy is made with SQLite's online backup API in one step: it reads one snapshot of the
database (in WAL mode writers are not held up meanwhile), so it holds every event the server
had acknowledged when the backup began. It is written next to FILE under a temporary name,
checked (`PRAGMA integrity_check`) and only then renamed to FILE, so a FILE that exists is
always a whole backup. The copy is one self-contained file (no -wal beside it).

Restore: stop the server, copy the backup to the path OPENTRACE_DATABASE_URL names (remove
that path's -wal and -shm files), start the server.

PostgreSQL databases are backed up with `pg_dump`; this command prints the exact command.

Example:
    OPENTRACE_DATABASE_URL=sqlite:////var/lib/opentrace/opentrace.db \\
        opentrace backup /backups/opentrace-$(date +%F).db
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sqlite3
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `backup` to the `opentrace` command."""
    backup = subparsers.add_parser(
        "backup", help="copy the live SQLite database to FILE (consistent, while serving)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    backup.add_argument("file", type=Path, metavar="FILE", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(func=run_command)


class BackupError(Exception):
    pass


def run_command(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url  # the server's modules load only for this command

    from opentrace.settings import Settings

    settings = Settings.from_env(os.environ)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        print("opentrace backup: copies SQLite databases only. Back up PostgreSQL with pg_dump "
              f"(it asks for the password, or reads PGPASSWORD or ~/.pgpass):\n\n"
              f"    {pg_dump_command(settings.database_url, args.file)}\n\n"
              f"and restore with: pg_restore --clean --if-exists --no-owner -d <database> "
              f"{shlex.quote(str(args.file))}", file=sys.stderr)
        return 2
    source = Path(url.database or "")
    try:
        size = backup_sqlite(source, args.file, force=args.force,
                             timeout_seconds=settings.db_timeout_seconds)
    except BackupError as exc:
        print(f"opentrace backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {args.file} ({size / 2**20:.1f} MB, integrity ok)")
    return 0


def pg_dump_command(database_url: str, file: Path) -> str:
    """The pg_dump command for a PostgreSQL URL, without its password."""
    from sqlalchemy.engine import URL, make_url

    given = make_url(database_url)
    url = URL.create("postgresql", username=given.username, host=given.host, port=given.port,
                     database=given.database, query=given.query)
    return shlex.join(["pg_dump", "--format=custom", f"--file={file}",
                       f"--dbname={url.render_as_string(hide_password=False)}"])


def backup_sqlite(source: Path, target: Path, *, force: bool, timeout_seconds: float) -> int:
    """Copy `source` to `target` consistently; returns the copy's size in bytes."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source} (OPENTRACE_DATABASE_URL)")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to replace it")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("FILE is the database itself")
    if not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(source, timeout=timeout_seconds)) as live, \
                contextlib.closing(sqlite3.connect(partial)) as copy:
            # pages=-1: the whole database in one step, from one read snapshot. A stepwise copy
            # restarts whenever the server commits, and under steady ingest it never ends.
            live.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"could not copy {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
