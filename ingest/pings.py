"""Healthchecks-compatible ping URLs: a cron job adopts OpenTrace with a one-line change.

The ping key is an OpenTrace token of scope `ingest` or `admin` (with `OPENTRACE_AUTH=off`
any key is accepted). Every URL answers HEAD, GET and POST with `200 OK`, the body `OK`
(text/plain) and `Ping-Body-Limit: 4000`.

| URL                                    | records                                           |
| -------------------------------------- | ------------------------------------------------- |
| `/ping/{ping_key}/{job}`               | finish `succeeded`                                |
| `/ping/{ping_key}/{job}/start`         | start; attributes source, user_agent, remote_addr |
| `/ping/{ping_key}/{job}/fail`          | finish `failed`                                   |
| `/ping/{ping_key}/{job}/log`           | a note (level info); no state change              |
| `/ping/{ping_key}/{job}/{exit_status}` | 0: finish `succeeded`; 1-255: finish `failed`, "exit status N" |

Query: `?rid=<uuid>` names the run (any UUID form, stored lowercase with hyphens; empty means
absent); `?create=1` is accepted and ignored, since jobs are created on first sight anyway.

Runs without `rid`: a start opens a new run; success, fail, exit status and log pings go to
the job's latest unfinished run. A success, fail or exit-status ping with no open run records
a one-off run (start and finish at the same instant). A log ping with no open run becomes a
note on the job's latest run, so that it never changes the job's state; only a job that has
never run gets a one-off run for it (finished `succeeded`, summary "log ping").

A request body (any method, any content type) becomes a note on the run: its first 4000 bytes,
decoded as UTF-8 (invalid bytes become U+FFFD, a character cut at the limit is dropped); the
rest is read and discarded, never refused. The note's level is `error` for a failed finish,
`info` otherwise.

Errors, as plain text like Healthchecks: unknown, revoked or `read`-scope key: 404 `not found`
(checked first); a job slug outside `^[a-z0-9._-]{1,128}$`, an extra path part that is not
start, fail, log or 0-255, or a `rid` that is not a UUID: 400. Storage down: 503 (JSON, from
the error middleware).

Examples (README-ready):

    # the one-line change to a crontab entry: ping when the job succeeded
    0 3 * * * /usr/local/bin/backup.sh && curl -fsS -m 10 --retry 5 -o /dev/null https://opentrace.example.com/ping/$OT_KEY/nightly-backup

    # start and finish, so the run gets a duration; a failure sends the log tail along
    curl -fsS -m 10 --retry 5 -o /dev/null https://opentrace.example.com/ping/$OT_KEY/nightly-backup/start
    if /usr/local/bin/backup.sh > /var/log/backup.log 2>&1; then
        curl -fsS -m 10 --retry 5 -o /dev/null https://opentrace.example.com/ping/$OT_KEY/nightly-backup
    else
        curl -fsS -m 10 --retry 5 -o /dev/null --data-raw "$(tail -n 20 /var/log/backup.log)" \\
            https://opentrace.example.com/ping/$OT_KEY/nightly-backup/fail
    fi

    # report the exit status, whatever it is
    /usr/local/bin/backup.sh; curl -fsS -m 10 --retry 5 -o /dev/null https://opentrace.example.com/ping/$OT_KEY/nightly-backup/$?

    # overlapping runs: name each one
    RID=$(uuidgen)
    curl -fsS -m 10 --retry 5 -o /dev/null "https://opentrace.example.com/ping/$OT_KEY/nightly-backup/start?rid=$RID"
    curl -fsS -m 10 --retry 5 -o /dev/null "https://opentrace.example.com/ping/$OT_KEY/nightly-backup/0?rid=$RID"
"""

import codecs
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import WRITE
from ingest.context import INGEST
from ingest.events_api import count_ingested, to_incoming
from ingest.schemas import AnyEvent, FinishEvent, NoteEvent, StartEvent, check_slug
from storage import queries
from storage.writer import IncomingEvent, NoOpenRun

PING_BODY_LIMIT = 4000  # bytes; NoteEvent.text holds 4000 characters, and no byte decodes to two
USER_AGENT_LIMIT = 512
EXIT_STATUS = re.compile(r"[0-9]{1,10}")
PATH = "/ping/{ping_key}/{job}"

Kind = Literal["success", "fail", "start", "log"]
Status = Literal["succeeded", "failed"]


class BadPing(Exception):
    """The URL is not a ping URL: answered 400 with the message."""


@dataclass(frozen=True)
class Ping:
    """What one ping URL asks for."""

    job: str
    run: str | None
    kind: Kind
    exit_status: int | None = None

    @property
    def status(self) -> Status | None:
        if self.kind == "success" and not self.exit_status:
            return "succeeded"
        if self.kind in ("success", "fail"):
            return "failed"
        return None

    @property
    def summary(self) -> str | None:
        return None if self.exit_status is None else f"exit status {self.exit_status}"


async def ping_success(request: web.Request) -> web.Response:
    return await handle_ping(request, "success")


async def ping_start(request: web.Request) -> web.Response:
    return await handle_ping(request, "start")


async def ping_fail(request: web.Request) -> web.Response:
    return await handle_ping(request, "fail")


async def ping_log(request: web.Request) -> web.Response:
    return await handle_ping(request, "log")


async def ping_exit_status(request: web.Request) -> web.Response:
    return await handle_ping(request, "success", request.match_info["exit_status"])


async def handle_ping(request: web.Request, kind: Kind, exit_status: str | None = None) -> web.Response:
    received_at = request.app[INGEST].clock()
    if not await may_ping(request, request.match_info["ping_key"]):
        return plain("not found", status=404)
    try:
        ping = parse_ping(request.match_info["job"], kind, exit_status, request.query.get("rid", ""))
    except BadPing as exc:
        return plain(str(exc), status=400)
    text = await read_body_text(request)
    await record(request, ping, text, received_at)
    return plain("OK", headers={"Ping-Body-Limit": str(PING_BODY_LIMIT)})


async def may_ping(request: web.Request, key: str) -> bool:
    if not request.app[INGEST].auth:
        return True
    return await request.app[INGEST].tokens.scope_of(key) in WRITE


def parse_ping(job: str, kind: Kind, exit_status: str | None, rid: str) -> Ping:
    try:
        check_slug(job)
    except ValueError as exc:
        raise BadPing(f"invalid url format: job slug {exc}") from None
    status = None if exit_status is None else parse_exit_status(exit_status)
    return Ping(job, parse_rid(rid), kind, status)


def parse_exit_status(text: str) -> int:
    if not EXIT_STATUS.fullmatch(text) or int(text) > 255:
        raise BadPing("invalid url format: after the job, use start, fail, log or an exit status 0-255")
    return int(text)


def parse_rid(rid: str) -> str | None:
    if not rid:
        return None
    try:
        return str(uuid.UUID(rid))
    except ValueError:
        raise BadPing("invalid uuid format: rid must be a UUID") from None


async def read_body_text(request: web.Request) -> str:
    """The body's first PING_BODY_LIMIT bytes as text; the rest is read and dropped."""
    if not request.can_read_body:
        return ""
    kept = bytearray()
    while len(kept) <= PING_BODY_LIMIT:
        chunk = await request.content.read(PING_BODY_LIMIT + 1 - len(kept))
        if not chunk:
            break
        kept += chunk
    while await request.content.readany():
        pass
    return decode_body(bytes(kept))


def decode_body(body: bytes) -> str:
    """UTF-8 with U+FFFD for invalid bytes; a character cut by the limit is left out."""
    truncated = len(body) > PING_BODY_LIMIT
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(body[:PING_BODY_LIMIT], final=not truncated)
    return text.replace("\x00", "\ufffd")


async def record(request: web.Request, ping: Ping, text: str, received_at: datetime) -> None:
    """Write the ping's events; with no open run, fall back as the module docstring says."""
    try:
        await write(request, ping_events(request, ping, text), received_at)
    except NoOpenRun:
        if ping.kind == "log":
            events = await log_without_open_run(request, ping, text)
        else:
            events = [start_event(request, ping), *ping_events(request, ping, text)]
        await write(request, events, received_at)


def ping_events(request: web.Request, ping: Ping, text: str) -> list[AnyEvent]:
    if ping.kind == "start":
        return [start_event(request, ping), *note_events(ping, text)]
    if ping.kind == "log":
        return [note_event(ping, text)]
    return [*note_events(ping, text), finish_event(ping)]


async def log_without_open_run(request: web.Request, ping: Ping, text: str) -> list[AnyEvent]:
    """The note goes to the job's latest run; a job that never ran gets a one-off run."""
    latest = await latest_run_key(request, ping.job)
    if latest is not None:
        return [note_event(Ping(ping.job, latest, "log"), text)]
    finish = FinishEvent(kind="finish", job=ping.job, status="succeeded", text="log ping")
    return [start_event(request, ping), note_event(ping, text), finish]


async def latest_run_key(request: web.Request, slug: str) -> str | None:
    async with AsyncSession(request.app[INGEST].engine) as session:
        job = await queries.get_job(slug, session=session)
        runs = await queries.list_runs(job, limit=1, session=session) if job else []
    return runs[0].key if runs else None


def start_event(request: web.Request, ping: Ping) -> StartEvent:
    return StartEvent(kind="start", job=ping.job, run=ping.run, attributes=start_attributes(request))


def start_attributes(request: web.Request) -> dict[str, Any]:
    agent = request.headers.get("User-Agent")
    return {
        "source": "ping",
        "user_agent": None if agent is None else printable(agent)[:USER_AGENT_LIMIT],
        "remote_addr": request.remote,
    }


def printable(header: str) -> str:
    """aiohttp hands non-UTF-8 header bytes over as lone surrogates; no column takes those."""
    return header.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")


def note_events(ping: Ping, text: str) -> list[AnyEvent]:
    return [note_event(ping, text)] if text.strip() else []


def note_event(ping: Ping, text: str) -> NoteEvent:
    level: Literal["info", "error"] = "error" if ping.status == "failed" else "info"
    return NoteEvent(kind="note", job=ping.job, run=ping.run, text=text, level=level)


def finish_event(ping: Ping) -> FinishEvent:
    assert ping.status is not None
    return FinishEvent(kind="finish", job=ping.job, run=ping.run, status=ping.status, text=ping.summary)


async def write(request: web.Request, events: list[AnyEvent], received_at: datetime) -> None:
    started = time.perf_counter()
    incoming: list[IncomingEvent] = [to_incoming(event, received_at) for event in events]
    result = await request.app[INGEST].writer.write(incoming, received_at)
    count_ingested(request, incoming, result, started)


def plain(text: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A text/plain answer that no proxy caches: a cached ping would be a lost ping."""
    return web.Response(text=text, status=status, content_type="text/plain",
                        headers={"Cache-Control": "no-store", **(headers or {})})


def _routes() -> list[web.RouteDef]:
    """GET (which adds HEAD) and POST on each URL; the shared name keeps one resource each."""
    paths = [
        (PATH, ping_success, "ping"),
        (PATH + "/start", ping_start, "ping-start"),
        (PATH + "/fail", ping_fail, "ping-fail"),
        (PATH + "/log", ping_log, "ping-log"),
        (PATH + "/{exit_status}", ping_exit_status, "ping-exit-status"),
    ]
    routes: list[web.RouteDef] = []
    for path, handler, name in paths:
        routes += [web.get(path, handler, name=name), web.post(path, handler, name=name)]
    return routes


ROUTES = _routes()
