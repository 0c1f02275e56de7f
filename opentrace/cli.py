"""The `opentrace` command: serve, tokens, and the job-side `send` and `exec`.

Server-side modules are imported inside the commands that need them: `send` and `exec` run
at every step of a job's shell script and must start in a fraction of a second."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ingest import commands
from manifest import package as teams_manifest
from opentrace import backup as backup_command
from opentrace import demo as demo_command
from storage.alert_states import ALERT_STATES

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from opentrace.settings import Settings

# What `opentrace --help` tells a user (the docstring above is for whoever edits this file).
USAGE = """OpenTrace: business telemetry for batch jobs, and a Teams bot that answers questions
about them ("has the import run today?").

examples:
  opentrace serve --port 8080              run the server (SQLite file opentrace.db by default)
  opentrace demo                           tell a story of nightly runs and show the bot's answers
  opentrace ask "did the import run today?"      ask as the Teams bot would
  opentrace exec --job nightly-backup -- ./backup.sh   report a job that cannot be changed
  opentrace token create etl-hosts --scope ingest      a token for jobs to report with

Configuration comes from OPENTRACE_* environment variables (see .env.example).
Each command explains itself: opentrace COMMAND --help"""
T = TypeVar("T")
SCOPES = ("ingest", "read", "admin")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    from opentrace.settings import SettingsError

    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"opentrace: configuration error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opentrace", description=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(title="commands")

    serve = sub.add_parser(
        "serve", help="run the OpenTrace server",
        description="Run the server: the ingest API (/v1), the Teams bot (/api/messages), the "
                    "watcher that sends alerts, /healthz and /metrics. Example: opentrace serve "
                    "--port 9000 (when 8080 is taken). The database is OPENTRACE_DATABASE_URL.")
    serve.add_argument("--host", help="interface to listen on (default OPENTRACE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default OPENTRACE_PORT or 8080)")
    serve.set_defaults(func=run_serve)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(title="token commands")
    create = token.add_parser("create", help="create a token and print it (shown only once)")
    create.add_argument("name")
    create.add_argument("--scope", choices=SCOPES, default="ingest")
    create.set_defaults(func=run_token_create)
    listing = token.add_parser("list", help="list tokens (names and scopes, never the secrets)")
    listing.set_defaults(func=run_token_list)
    revoke = token.add_parser("revoke", help="revoke every token with this name")
    revoke.add_argument("name")
    revoke.set_defaults(func=run_token_revoke)

    ask = sub.add_parser(
        "ask", help="answer a question exactly as the Teams bot would",
        description="Answer a question from the database (OPENTRACE_DATABASE_URL) exactly as the "
                    "Teams bot would. On a database without jobs it says so and how to get some. "
                    "Exit status 0 when answered (also 'no jobs yet'), 2 for a bad --now or --tz.")
    ask.add_argument("question")
    ask.add_argument("--now", help="the clock for 'today' and 'last night' (RFC 3339)")
    ask.add_argument("--tz", help="the asker's IANA time zone (default: the job's, then "
                                  "OPENTRACE_TIMEZONE)")
    ask.set_defaults(func=run_ask)

    alerts = sub.add_parser("alerts", help="list alerts and where they were delivered")
    alerts.add_argument("--state", choices=ALERT_STATES)
    alerts.add_argument("--limit", type=int, default=50)
    alerts.set_defaults(func=run_alerts)

    audit = sub.add_parser(
        "audit", help="who changed what: job definitions, tokens, alert actions, subscriptions",
        description="Print the audit log, newest first: every change a person made, with who, "
                    "when and from where. Example: opentrace audit --since 2026-11-01 --action job",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    audit.add_argument("--since", help="only entries at or after this date or time (RFC 3339)")
    audit.add_argument("--action", help="an action or its family: job, token, alert, subscription, "
                                        "audience, or e.g. alert.snoozed")
    audit.add_argument("--actor", help="part of who made the change (a token name, a person)")
    audit.add_argument("--target", help="part of what was changed (a job slug, a token name)")
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(func=run_audit)

    jobs = sub.add_parser("jobs", help="job definitions").add_subparsers(title="jobs commands")
    apply = jobs.add_parser("apply", help="create or replace job definitions from a YAML file "
                                          "(idempotent; all or nothing)")
    apply.add_argument("file")
    apply.set_defaults(func=run_jobs_apply)

    commands.register(sub)
    teams_manifest.register(sub)
    demo_command.register(sub)
    backup_command.register(sub)
    return parser


def load_settings() -> Settings:
    from opentrace.settings import Settings

    return Settings.from_env(os.environ)


def run_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from opentrace.app import create_app
    from opentrace.heap import freeze_start_up_heap
    from opentrace.logs import AccessLog, configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    host = args.host or settings.host
    port = args.port or settings.port
    try:
        import uvloop  # optional: a faster event loop where it is installed

        uvloop.install()
    except ImportError:
        pass
    app = create_app(settings)
    app.on_startup.append(freeze_start_up_heap)  # last: once the app's objects are all made
    web.run_app(app, host=host, port=port, access_log_class=AccessLog,
                access_log=logging.getLogger("opentrace.access"),
                print=lambda _: print(banner(settings, host, port), flush=True))
    return 0


def banner(settings: Settings, host: str, port: int) -> str:
    """What `serve` says once it listens: where, and where people and Teams reach it."""
    lines = [f"OpenTrace listening on http://{host}:{port}"]
    if settings.public_url:
        lines.append(f"Public URL {settings.public_url} (OPENTRACE_PUBLIC_URL): the Teams "
                     f"messaging endpoint is {settings.public_url}/api/messages")
        if not settings.trusted_proxies:
            lines.append("No proxy is trusted (OPENTRACE_TRUSTED_PROXIES): the log and the "
                         "audit log name the proxy's address, not the clients'")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.engine import Answerer
    from ingest.timestamps import parse_rfc3339
    from storage import queries
    from storage.clock import utc_now
    from storage.engine import create_engine, migrate

    try:
        now = parse_rfc3339(args.now) if args.now else None
    except ValueError as exc:
        print(f"opentrace ask: --now {exc}", file=sys.stderr)
        return 2
    try:
        if args.tz:
            ZoneInfo(args.tz)
    except (ValueError, ZoneInfoNotFoundError):
        print(f"opentrace ask: --tz: unknown time zone {args.tz!r}", file=sys.stderr)
        return 2

    def clock() -> datetime:
        return now or utc_now()

    async def answer() -> str:
        settings = load_settings()
        engine = create_engine(settings.database_url, timeout_seconds=settings.db_timeout_seconds)
        try:
            await migrate(engine)
            async with AsyncSession(engine) as session:
                jobs, _ = await queries.jobs_signature(session=session)
            if not jobs:
                return no_jobs_yet(settings.database_url)
            answerer = Answerer(engine, clock=clock, default_timezone=settings.timezone)
            return (await answerer.reply(args.question, timezone=args.tz)).text
        finally:
            await engine.dispose()

    print(asyncio.run(answer()))
    return 0


def no_jobs_yet(database_url: str) -> str:
    """The answer on a database no job has reached yet: a fresh install, or — often — the wrong
    database (the default SQLite file is relative to the directory the command runs in)."""
    return (
        f"There are no jobs yet in {describe_database(database_url)}, so there is nothing to "
        "answer about.\n"
        "To get some:\n"
        "  opentrace demo --keep    tells a week of a nightly import on a database of its own "
        "and ends with the commands that ask about it\n"
        "  POST /v1/events          report a run to the server on this database: the README's "
        "first curl, opentrace send, opentrace exec or a ping\n"
        "  PUT /v1/jobs/<job>       define a job (its title, the names people use, its schedule) "
        "before it first runs\n"
        "Asking about another database? Set OPENTRACE_DATABASE_URL to the server's.")


def describe_database(database_url: str) -> str:
    """The database as a person can find it: a SQLite file by its absolute path, any other by
    its URL without the password."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return f"the SQLite file {Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)


def run_alerts(args: argparse.Namespace) -> int:
    from opentrace.alerts_cli import print_alerts

    timezone = load_settings().timezone
    return asyncio.run(in_database(
        lambda session: print_alerts(session, args.state, args.limit, timezone)))


def run_jobs_apply(args: argparse.Namespace) -> int:
    from opentrace.audit_cli import cli_actor, cli_origin
    from opentrace.job_files import JobFileError, apply_definitions, read_definitions, warnings_of
    from storage.clock import utc_now

    try:
        definitions = read_definitions(args.file)
    except JobFileError as exc:
        print(f"opentrace jobs apply: {exc}", file=sys.stderr)
        return 2

    async def apply(session: AsyncSession) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        changed = await apply_definitions(session, definitions, utc_now(), actor=cli_actor(),
                                          origin=cli_origin())
        return changed, await warnings_of(session, list(definitions))

    changed, warnings = asyncio.run(in_database(apply))
    for slug, what in changed:
        print(f"{what}\t{slug}")
    for slug, warning in warnings:
        print(f"warning: {slug}: {warning}", file=sys.stderr)
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    from opentrace.audit_cli import cli_actor, cli_origin
    from storage import tokens
    from storage.audit import record_change
    from storage.clock import utc_now

    async def create(session: AsyncSession) -> str:
        now = utc_now()
        token = await tokens.create_token(args.name, args.scope, now, session=session, commit=False)
        record_change("token.created", actor=cli_actor(), target=args.name, origin=cli_origin(),
                      at=now, details={"scope": args.scope}, session=session)
        await session.commit()
        return token

    print(asyncio.run(in_database(create)))
    return 0


def run_audit(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from opentrace.audit_cli import parse_since, print_audit

    settings = load_settings()
    try:
        since = parse_since(args.since, ZoneInfo(settings.timezone)) if args.since else None
    except ValueError as exc:
        print(f"opentrace audit: --since: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(in_database(lambda session: print_audit(
        session, since=since, action=args.action, actor=args.actor, target=args.target,
        limit=args.limit, zone=ZoneInfo(settings.timezone))))


def run_token_list(args: argparse.Namespace) -> int:
    from storage import tokens

    async def listing(session: AsyncSession) -> None:
        for t in await tokens.list_tokens(session=session):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            print(f"{t.name}\t{t.scope}\t{t.created_at:%Y-%m-%d %H:%M}Z\t{state}")

    asyncio.run(in_database(listing))
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    from opentrace.audit_cli import cli_actor, cli_origin
    from storage import tokens
    from storage.audit import record_change
    from storage.clock import utc_now

    async def revoke(session: AsyncSession) -> int:
        now = utc_now()
        count = await tokens.revoke_token(args.name, now, session=session, commit=False)
        if count:
            record_change("token.revoked", actor=cli_actor(), target=args.name,
                          origin=cli_origin(), at=now, details={"tokens": count}, session=session)
        await session.commit()
        return count

    count = asyncio.run(in_database(revoke))
    print(f"revoked {count} token(s) named {args.name!r}")
    return 0 if count else 1


async def in_database(action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one action against the configured database, migrating it first if it is new."""
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.engine import create_engine, migrate

    settings = load_settings()
    engine = create_engine(settings.database_url, timeout_seconds=settings.db_timeout_seconds)
    try:
        await migrate(engine)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return await action(session)
    finally:
        await engine.dispose()
