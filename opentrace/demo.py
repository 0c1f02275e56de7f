"""`opentrace demo`: the seed story, end to end, in the terminal.

A real OpenTrace server (SQLite, 127.0.0.1, a free port) is told — through the HTTP contract,
`PUT /v1/jobs/...` and `POST /v1/events` — about the nightly product import: its schedule and
expectations, seven normal nights, then the night the supplier changed the file format. A demo
clock moves through the nights; the real watcher judges the telemetry as it arrives and each
deadline as it falls due, and the real deliverer sends the alerts to a pretend "Sales channel"
that prints what Teams would have shown. At the end the bot answers "has the import run today?".

Nothing printed is scripted: the alert texts and cards are whatever the watcher produced.

The database: a temporary directory, removed afterwards unless `--keep` (then the demo ends
with the commands that ask the bot about the story: `opentrace ask … --now … --tz …` with
OPENTRACE_DATABASE_URL; `opentrace alerts` works there too). With `--db PATH`
the database is that file, which is kept; the demo needs an empty database, so it refuses a
PATH that exists and is not empty.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

# The server side takes seconds to import; `opentrace send` must not pay for it, so it is
# imported inside the functions that run the demo (as in opentrace/cli.py).
if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web
    from sqlalchemy.ext.asyncio import AsyncEngine

    from alerts.delivery import Message

BERLIN = ZoneInfo("Europe/Berlin")
IMPORT = "nightly-product-import"
DEFINITION: dict[str, Any] = {
    "title": "Nightly product import", "aliases": ["the import"], "timezone": "Europe/Berlin",
    "schedule": "10 0 * * *",
    "expect": {"start_within": "30m", "milestones": [{"name": "report-published", "by": "5h50m"}],
               "metrics": {"rows_skipped": {"usual": True}}, "final_milestone": "report-published"},
}
CHANNEL_ID = "19:sales-channel@thread.tacv2"
CHANNEL_NAME = "Sales channel"
NORMAL_SKIPPED = {18: 41, 19: 38, 20: 45, 21: 30, 22: 50, 23: 36, 24: 42}  # day of November: rows
BAD_DAY = 25
QUESTION = "has the import run today?"
NORMAL = "normal night"
HTTP_TIMEOUT_SECONDS = 30
MAX_CHECKS = 100  # deadline checks between two moments of the story, at most

Event = dict[str, Any]


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


DEFINED_AT = berlin(17, 12)
ASKED_AT = berlin(BAD_DAY, 8)


@dataclass
class DemoClock:
    """The clock the server, the watcher, the deliverer and the bot all read; the demo sets it."""

    now: datetime = DEFINED_AT

    def __call__(self) -> datetime:
        return self.now


class DemoError(Exception):
    """The server refused part of the story: the demo cannot go on."""


@dataclass(frozen=True)
class Night:
    day: int
    title: str
    events: list[Event]
    ends_at: datetime  # the clock runs on to here before the next night (past every deadline)


# --- the story -------------------------------------------------------------------------------


def the_story() -> list[Night]:
    nights = [Night(day, NORMAL, normal_night(day, skipped), berlin(day, 12))
              for day, skipped in NORMAL_SKIPPED.items()]
    return [*nights, Night(BAD_DAY, "the supplier changed the file format", the_bad_night(),
                           ASKED_AT)]


def at(day: int, hour: int, minute: int) -> str:
    return berlin(day, hour, minute).isoformat()


def night_opens(day: int) -> tuple[dict[str, str], list[Event]]:
    """Every night starts alike: the run, its input file, the file read."""
    run = {"job": IMPORT, "run": f"2026-11-{day:02}"}
    return run, [
        {**run, "kind": "start", "at": at(day, 0, 12), "attributes": {"host": "etl-1"}},
        {**run, "kind": "payload", "at": at(day, 0, 13), "name": "input-file",
         "data": {"path": f"/data/supplier/products-2026-11-{day:02}.csv"}},
        {**run, "kind": "milestone", "at": at(day, 0, 14), "name": "file-read"},
    ]


def normal_night(day: int, skipped: int) -> list[Event]:
    run, opening = night_opens(day)
    return [
        *opening,
        {**run, "kind": "metric", "at": at(day, 0, 40), "name": "rows_processed",
         "value": 120_000 + day * 10, "unit": "rows"},
        {**run, "kind": "metric", "at": at(day, 0, 40), "name": "rows_skipped", "value": skipped,
         "unit": "rows"},
        {**run, "kind": "metric", "at": at(day, 1, 10), "name": "products_matched",
         "value": 118_000 + day * 10},
        {**run, "kind": "milestone", "at": at(day, 1, 10), "name": "products-matched"},
        {**run, "kind": "milestone", "at": at(day, 1, 30), "name": "promotions-applied"},
        {**run, "kind": "payload", "at": at(day, 1, 50), "name": "output-report",
         "data": {"path": f"/reports/sales-2026-11-{day:02}.xlsx"}},
        {**run, "kind": "milestone", "at": at(day, 1, 50), "name": "report-published"},
        {**run, "kind": "finish", "at": at(day, 1, 52), "status": "succeeded"},
    ]


def the_bad_night() -> list[Event]:
    run, opening = night_opens(BAD_DAY)
    return [
        *opening,
        {**run, "kind": "note", "at": at(BAD_DAY, 0, 20), "level": "warning",
         "text": "unknown column 'EAN13' in supplier file"},
        {**run, "kind": "metric", "at": at(BAD_DAY, 0, 30), "name": "rows_processed",
         "value": 1_204, "unit": "rows"},
        {**run, "kind": "metric", "at": at(BAD_DAY, 0, 30), "name": "rows_skipped",
         "value": 8_911, "unit": "rows"},
        {**run, "kind": "finish", "at": at(BAD_DAY, 0, 31), "status": "partial",
         "text": "exited early: too many rows skipped"},
    ]


def what_was_sent(events: list[Event]) -> str:
    """The night's telemetry in one line: when it started, what it skipped, how it ended."""
    final = DEFINITION["expect"]["final_milestone"]
    parts = []
    for event in events:
        time = f"{datetime.fromisoformat(event['at']):%H:%M}"
        if event["kind"] == "start":
            parts.append(f"start {time}")
        elif event["kind"] == "metric" and event["name"] == "rows_skipped":
            parts.append(f"{event['value']:,} rows skipped")
        elif event["kind"] == "note":
            parts.append(f"{event['level']} “{event['text']}”")
        elif event["kind"] == "milestone" and event["name"] == final:
            parts.append(f"{final} {time}")
        elif event["kind"] == "finish":
            parts.append(f"finish {event['status']} {time}")
    if not any(e["kind"] == "milestone" and e["name"] == final for e in events):
        parts.append(f"no {final}")
    return ", ".join(parts)


# --- the command -----------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo` to the `opentrace` command."""
    demo = subparsers.add_parser(
        "demo", help="replay the seed story against a real server and show the alerts",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--db", type=Path, metavar="PATH",
                      help="SQLite file to use (must not exist, or be empty); kept afterwards")
    demo.add_argument("--keep", action="store_true",
                      help="keep the temporary database and print where it is")
    demo.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(args.db, sys.stdout, keep=args.keep))


async def run_demo(db_path: Path | None, out: TextIO, *, keep: bool = False) -> int:
    """Tell the story on `out`; 0 when it was told, 2 when `db_path` cannot be used, 1 when
    the server refused part of the story (said on stderr)."""
    problem = unusable(db_path)
    if problem:
        print(f"opentrace demo: {problem}", file=sys.stderr)
        return 2
    with database_file(db_path, keep) as path:
        try:
            await tell(f"sqlite:///{path}", out)
        except DemoError as exc:
            print(f"opentrace demo: {exc}", file=sys.stderr)
            return 1
        if db_path is not None or keep:
            print(f"\nThe database is kept. Ask the bot about this story yourself, at the demo's "
                  f"clock ({ASKED_AT:%a %d %b %H:%M} in Berlin):", file=out)
            for command in ask_commands(path):
                print(f"  {command}", file=out)
        else:
            print("\nTo ask the bot about this story yourself: opentrace demo --keep "
                  "(it then prints the commands).", file=out)
    return 0


FOLLOW_UPS = ("did the import run today?", "how many rows were skipped last night?",
              "anything late?")


def ask_commands(path: Path) -> list[str]:
    """The commands that ask the kept story's database, as the bot would be asked that morning.
    Each names the database for itself alone: an `export` would leave the shell pointing at the
    demo, and the tokens and questions that follow in the README would land there too."""
    moment = ASKED_AT.isoformat()
    database = shlex.quote(f"sqlite:///{path}")
    return [f'OPENTRACE_DATABASE_URL={database} opentrace ask "{question}" --now {moment} '
            "--tz Europe/Berlin" for question in FOLLOW_UPS]


def unusable(db_path: Path | None) -> str | None:
    """Why `db_path` cannot hold the demo's database, or None when it can (or is None)."""
    if db_path is None:
        return None
    if db_path.is_dir():
        return f"--db {db_path} is a directory; give a file path"
    if db_path.exists() and db_path.stat().st_size > 0:
        return (f"--db {db_path} exists and is not empty; the demo needs an empty database "
                "(give a new path, or none for a temporary one)")
    if not db_path.parent.is_dir():
        return f"--db {db_path}: the directory {db_path.parent} does not exist"
    return None


@contextmanager
def database_file(db_path: Path | None, keep: bool) -> Iterator[Path]:
    """The SQLite file: `db_path` (kept), or one in a temporary directory (removed unless kept)."""
    if db_path is not None:
        yield db_path.resolve()
        return
    directory = Path(tempfile.mkdtemp(prefix="opentrace-demo-"))
    try:
        yield directory / "opentrace.db"
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)


async def tell(database_url: str, out: TextIO) -> None:
    import aiohttp

    from opentrace.app import create_app
    from opentrace.settings import Settings

    clock = DemoClock()
    settings = Settings(database_url=database_url, auth=False, watch=False, timezone="Europe/Berlin")
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
    async with serving(create_app(settings, clock=clock)) as (base_url, engine), \
            aiohttp.ClientSession(base_url, timeout=timeout) as http:
        print(f"OpenTrace demo: a real server on {base_url}, an empty database, a demo clock.",
              file=out)
        demo = Demo(http, engine, clock, out)
        await demo.define()
        for night in the_story():
            await demo.replay(night)
        await demo.ask(QUESTION)
        await demo.summary()


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """The app served on 127.0.0.1 at a port the system picks; its URL and database engine."""
    from aiohttp import web

    from ingest.context import INGEST

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}", app[INGEST].engine
    finally:
        await runner.cleanup()


# --- telling it ------------------------------------------------------------------------------


class Demo:
    """The story against the server: the HTTP contract for the job's side, the real watcher,
    deliverer and answerer for OpenTrace's side, one clock for all."""

    def __init__(self, http: aiohttp.ClientSession, engine: AsyncEngine, clock: DemoClock,
                 out: TextIO) -> None:
        from alerts.delivery import Deliverer
        from alerts.targets import TEAMS
        from alerts.watcher import Watcher
        from bot.alert_messages import AlertComposer
        from bot.engine import Answerer

        self.http = http
        self.engine = engine
        self.clock = clock
        self.out = out
        self.channel = TerminalSender(out, clock, {CHANNEL_ID: CHANNEL_NAME})
        self.watcher = Watcher(engine, clock=clock, default_timezone="Europe/Berlin")
        self.deliverer = Deliverer(engine, clock=clock, senders={TEAMS: self.channel},
                                   compose=AlertComposer("Europe/Berlin"))
        self.answerer = Answerer(engine, clock=clock, default_timezone="Europe/Berlin")

    def say(self, line: str = "") -> None:
        print(line, file=self.out)

    async def define(self) -> None:
        from sqlmodel.ext.asyncio.session import AsyncSession

        from storage.alerts import subscribe

        self.clock.now = DEFINED_AT
        await self.request("PUT", f"/v1/jobs/{IMPORT}", DEFINITION)
        async with AsyncSession(self.engine) as session:
            await subscribe(CHANNEL_ID, IMPORT, self.clock(), session=session)
        expect = DEFINITION["expect"]
        [milestone] = expect["milestones"]
        self.say(f"{self.clock.now:%a %d %b %H:%M} — PUT /v1/jobs/{IMPORT}: "
                 f"“{DEFINITION['title']}”, cron '{DEFINITION['schedule']}' {DEFINITION['timezone']},")
        self.say(f"  start within {expect['start_within']}, {milestone['name']} by "
                 f"+{milestone['by']}, rows_skipped as usual. The {CHANNEL_NAME} subscribes.")
        self.say()

    async def replay(self, night: Night) -> None:
        """The night's telemetry as it happens, judged as it arrives; then the clock runs on
        past the night's deadlines, stopping at each as the server's scheduler would."""
        if night.title != NORMAL:
            self.say()
        self.say(f"{berlin(night.day, 0):%a %d %b} — {night.title}")
        self.say(f"  POST /v1/events: {what_was_sent(night.events)}")
        heard = len(self.channel.received)
        for moment, batch in batches(night.events):
            await self.run_until(moment)
            await self.request("POST", "/v1/events", batch)
            await self.watcher.judge_runs(await self.run_ids(batch))
            await self.deliverer.deliver_due()
        await self.run_until(night.ends_at)
        if len(self.channel.received) == heard:
            self.say(f"  {CHANNEL_NAME}: no alert (deadlines checked until {night.ends_at:%H:%M})")

    async def run_until(self, moment: datetime) -> None:
        for _ in range(MAX_CHECKS):
            due = await self.watcher.next_check_at()
            if due is None or due > moment:
                break
            self.clock.now = max(self.clock.now, due)
            await self.watcher.check_due()
            await self.deliverer.deliver_due()
        self.clock.now = max(self.clock.now, moment)

    async def ask(self, question: str) -> None:
        self.clock.now = ASKED_AT
        reply = await self.answerer.reply(question, timezone="Europe/Berlin")
        self.say()
        self.say(f"{ASKED_AT:%a %d %b %H:%M} — in the {CHANNEL_NAME}: “{question}”")
        first, *rest = reply.text.splitlines() or [""]
        self.say(f"  OpenTrace: {first}")
        for line in rest:
            self.say(f"  {line}")

    async def summary(self) -> None:
        """What the server itself says it sent: each alert and how often it went out."""
        alerts = (await self.request("GET", "/v1/alerts"))["alerts"]
        sent = [f"{a['kind']} sent {sum(d['state'] == 'sent' for d in a['deliveries'])}×"
                for a in sorted(alerts, key=lambda a: str(a["kind"]))]
        self.say()
        posted = sum(not r.updated for r in self.channel.received)
        updates = len(self.channel.received) - posted
        self.say(f"GET /v1/alerts: {'; '.join(sent) or 'no alerts'}. "
                 f"The {CHANNEL_NAME} received {posted} card{'s' if posted != 1 else ''}, "
                 f"updated {updates} time{'s' if updates != 1 else ''} in place.")

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, path, json=body) as response:
            answer = await response.json()
            if response.status >= 300:
                raise DemoError(f"{method} {path} answered {response.status}: {answer}")
            return answer

    async def run_ids(self, events: list[Event]) -> list[int]:
        from sqlmodel.ext.asyncio.session import AsyncSession

        from storage import queries

        async with AsyncSession(self.engine) as session:
            return await queries.run_ids(IMPORT, sorted({e["run"] for e in events}), session=session)


def batches(events: list[Event]) -> Iterator[tuple[datetime, list[Event]]]:
    """The events a job sends at one moment, one batch per moment."""
    for moment, batch in groupby(events, key=lambda e: e["at"]):
        yield datetime.fromisoformat(moment), list(batch)


# --- the pretend channel ---------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    at: datetime
    target: str
    message: Message
    updated: bool = False  # put in place of a card posted before


@dataclass
class TerminalSender:
    """A Teams channel in the terminal: prints each message when it arrives (Berlin time),
    its text, and its card compactly — the card's text runs, its actions in brackets."""

    out: TextIO
    clock: DemoClock
    names: dict[str, str]
    received: list[Received] = field(default_factory=list)

    async def send(self, target: str, message: Message, *, thread: str | None = None,
                   replace: str | None = None) -> str | None:
        now = self.clock().astimezone(BERLIN)
        self.received.append(Received(now, target, message, updated=replace is not None))
        name = self.names.get(target, target)
        arrow = f"↻ {name} (its card updated)" if replace else f"→ {name}"
        print(f"  {now:%H:%M} {arrow}: {message.text}", file=self.out)
        for line in card_lines(message.card, message.text):
            print(f"      {line}", file=self.out)
        return replace or f"demo-activity-{len(self.received)}"


def card_lines(card: dict[str, Any], text: str) -> list[str]:
    """The card compactly: a line per paragraph, header and section (a section's rows joined
    with ' · '), without the headline that repeats the message `text`; then the actions."""
    repeated = text.removeprefix("⚠ ").strip()
    lines = [line for element in card.get("body", []) for line in element_lines(element)
             if line.strip() != repeated]
    actions = " ".join(f"[{a['title']}]" for a in card.get("actions", []) if "title" in a)
    return [*lines, actions] if actions else lines


def element_lines(element: dict[str, Any]) -> list[str]:
    kind = element.get("type")
    if kind == "RichTextBlock":
        text = "".join(run.get("text", "") for run in element.get("inlines", []))
        return [text] if text.strip() else []
    if kind == "ColumnSet":
        columns = [" · ".join(element_lines(column)) for column in element.get("columns", [])]
        return ["  ".join(c for c in columns if c)]
    if kind == "Table":
        return table_lines(element)
    lines = [line for item in element.get("items", []) for line in element_lines(item)]
    if kind == "Container" and len(lines) > 1:  # a section: its heading, then its rows
        return [f"{lines[0]}: {' · '.join(lines[1:])}"]
    return lines


def table_lines(table: dict[str, Any]) -> list[str]:
    """'name value, <column> value…' per row, the column names taken from the header row."""
    rows = [[" ".join(line for item in cell.get("items", []) for line in element_lines(item))
             for cell in row.get("cells", [])] for row in table.get("rows", [])]
    if len(rows) < 2:
        return ["  ".join(row) for row in rows]
    header, *body = rows
    return [" ".join(cells[:2]) + "".join(f", {name.lower()} {value}"
                                          for name, value in zip(header[2:], cells[2:], strict=False))
            for cells in body]
