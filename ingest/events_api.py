"""`POST /v1/events`: validate the whole batch, then hand it to the group-commit writer."""

import json
import time
from datetime import datetime
from typing import Any, NoReturn

from aiohttp import web
from pydantic import ValidationError

from ingest.auth import WRITE, authorize
from ingest.context import INGEST
from ingest.errors import BadRequest, Invalid, TooLarge, problems
from ingest.schemas import (
    EVENT_KINDS,
    MAX_BODY_BYTES,
    MAX_EVENTS,
    AnyEvent,
    Checked,
    EventBatch,
    quick_check,
)
from storage.types import write_json
from storage.writer import IncomingEvent, NoOpenRun, WriteResult

COMMON_FIELDS = {"job", "run", "at", "id", "kind"}
# Which kind-specific field each kind stores in the `name`, `value` and `status` columns.
LIFTED: dict[str, tuple[str | None, str | None, str | None]] = {
    "start": (None, None, None),
    "progress": ("stage", "done", None),
    "metric": ("name", "value", None),
    "note": (None, None, "level"),
    "payload": ("name", None, None),
    "duration": ("name", "seconds", None),
    "milestone": ("name", None, "status"),
    "finish": (None, None, "status"),
}


async def post_events(request: web.Request) -> web.Response:
    started = time.perf_counter()
    received_at = request.app[INGEST].clock()
    await authorize(request, WRITE)
    items, single = parse_body(await read_body(request))
    events = [incoming(event, received_at) for event in checked_events(items, single)]
    result = await write_events(request, events, received_at)
    count_ingested(request, events, result, started)
    return web.json_response(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "runs": [{"job": job, "run": run} for job, run in result.runs],
        },
        status=202,
        dumps=write_json,  # json.dumps' text, without making an encoder per answer
    )


async def write_events(
    request: web.Request, events: list[IncomingEvent], received_at: datetime
) -> WriteResult:
    """Commit one atomic batch; an event naming no open run makes it a 422."""
    try:
        return await request.app[INGEST].writer.write(events, received_at)
    except NoOpenRun as exc:
        raise Invalid("event names no run and its job has no unfinished run", [
            {"index": exc.index, "field": "run", "message": str(exc)}
        ]) from None


def count_ingested(
    request: web.Request, events: list[IncomingEvent], result: WriteResult, started: float
) -> None:
    kinds: dict[str, int] = {}
    for event in events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    request.app[INGEST].observer.ingested(request.path, kinds, result.duplicates,
                                          time.perf_counter() - started)


async def read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise TooLarge(f"body is {request.content_length} bytes; at most {MAX_BODY_BYTES} allowed")
    return await request.read()


def parse_body(body: bytes) -> tuple[list[Any], bool]:
    """Decode the JSON body; returns the events and whether a single object was sent."""
    parsed = decode_json(body)
    if isinstance(parsed, dict):
        return [parsed], True
    if not isinstance(parsed, list):
        raise BadRequest("body must be one event object or a JSON array of events")
    if not parsed:
        raise Invalid("the array holds no events", [
            {"index": 0, "field": "(body)", "message": "send at least one event"}
        ])
    if len(parsed) > MAX_EVENTS:
        raise TooLarge(f"{len(parsed)} events in one request; at most {MAX_EVENTS} allowed")
    return parsed, False


def decode_json(body: bytes) -> Any:
    """UTF-8 JSON or a 400 that says what is wrong with it. NaN and Infinity are refused:
    they are not JSON, and no database column takes them back."""
    if not body.strip():
        raise BadRequest("empty body: send a JSON document")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except RecursionError:
        raise BadRequest("body JSON nests too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


# What json.loads(text, parse_constant=_reject_constant) would build for every body.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def checked_events(items: list[Any], single: bool) -> list[Checked]:
    """The quick check when it is sure; the models, which name every problem, otherwise."""
    quick = quick_check(items)
    return quick if quick is not None else [checked(event) for event in validate(items, single)]


def validate(items: list[Any], single: bool) -> list[AnyEvent]:
    try:
        return EventBatch.validate_python(items)
    except ValidationError as exc:
        details = [_detail(loc, kind, message) for loc, kind, message in problems(exc)]
        count = len({d["index"] for d in details})
        what = "the event is invalid" if single else f"{count} of {len(items)} events are invalid"
        raise Invalid(f"{what}; nothing was stored", details) from None


def _detail(loc: list[str | int], kind: str, message: str) -> dict[str, Any]:
    index = loc.pop(0) if loc and isinstance(loc[0], int) else 0
    if kind == "union_tag_not_found":
        return {"index": index, "field": "kind", "message": f"missing; one of {', '.join(EVENT_KINDS)}"}
    if kind == "union_tag_invalid":
        return {"index": index, "field": "kind",
                "message": f"unknown kind; use one of {', '.join(EVENT_KINDS)}"}
    if loc and loc[0] in EVENT_KINDS:
        loc.pop(0)
    field = ".".join(str(part) for part in loc) or "(event)"
    return {"index": index, "field": field, "message": message}


def to_incoming(event: AnyEvent, received_at: datetime) -> IncomingEvent:
    return incoming(checked(event), received_at)


def checked(event: AnyEvent) -> Checked:
    data = event.model_dump(exclude=COMMON_FIELDS, exclude_none=True)
    return Checked(event.job, event.run, event.at, event.id, event.kind, data)


def incoming(event: Checked, received_at: datetime) -> IncomingEvent:
    job, run, at, key, kind, data = event
    name_field, value_field, status_field = LIFTED[kind]
    return IncomingEvent(  # positionally: keywords cost a third more, once per event
        job, run, kind, at or received_at, key,
        data.get(name_field) if name_field else None,  # name
        data.get(value_field) if value_field else None,  # value
        data.get(status_field) if status_field else None,  # status
        data,
    )
