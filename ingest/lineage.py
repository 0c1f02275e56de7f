"""`POST /api/v1/lineage`: OpenLineage RunEvents (spec 2-0-x) as the OpenLineage HTTP
transport sends them: one JSON RunEvent per request, `Authorization: Bearer <ingest token>`,
optionally gzip-compressed (aiohttp inflates the body).

One RunEvent becomes one atomic batch of v1 events, validated by the same schemas as
`POST /v1/events` and answered `202 {"accepted", "duplicates", "runs"}` once committed.

| OpenLineage                          | OpenTrace                                                  |
| ------------------------------------ | ---------------------------------------------------------- |
| `job.namespace` + `job.name`         | job slug `namespace-name`: lowercase ASCII, anything else  |
|                                      | becomes `-`, repeats collapsed; over 128 characters it     |
|                                      | is cut and ends in `-<10 hex of sha256>`. A job without    |
|                                      | aliases gets title `name` and alias `namespace/name`; a    |
|                                      | title or aliases an admin set are kept                     |
| `run.runId`                          | run key                                                    |
| `eventTime` (offset or Z required)   | `at` of every event of the batch                           |
| `eventType` START                    | start; attributes `producer`, `schemaURL`,                 |
|                                      | `nominalStartTime` and `nominalEndTime` (nominalTime       |
|                                      | facet), `parent` {namespace, name, runId} (parent facet)   |
| `eventType` RUNNING                  | progress (a heartbeat, not a note, so notes stay free of   |
|                                      | noise): stage `running`, done = rows written so far, else  |
|                                      | rows read (unit `rows`), else 0                            |
| `eventType` COMPLETE / FAIL / ABORT  | finish succeeded / failed / cancelled; FAIL's text is the  |
|                                      | first line of the errorMessage facet's message             |
| `eventType` OTHER, absent or unknown | info note naming the type                                  |
| run facet `errorMessage`             | error note `[programmingLanguage] message` (<= 4000        |
|                                      | characters) and payload `openlineage.errorMessage`         |
|                                      | {message, programmingLanguage, stackTrace} (head and tail  |
|                                      | kept), whatever the eventType                              |
| `inputs` / `outputs`                 | payload `inputs` / `outputs`: {"datasets": [each dataset   |
|                                      | as sent: namespace, name, facets, inputFacets /            |
|                                      | outputFacets]}                                             |
| input facet `inputStatistics`, else  | metrics `rows_read`, `bytes_read`, `files_read` (totals    |
| `dataQualityMetrics`                 | over the side)                                             |
| output facet `outputStatistics`      | metrics `rows_written`, `bytes_written`, `files_written`   |
|                                      | (totals over the side)                                     |
| two to 50 datasets on a side         | also `<dataset name>:rows_read` ... per dataset            |
|                                      | (`namespace/name` where names repeat; the tail kept within |
|                                      | 128 characters)                                            |
| other run facets, all job facets     | payload `openlineage.facets` {"run": {...}, "job": {...}}  |

Payloads keep what fits in 64 KiB: the largest facets (then datasets) are left out first and
the payload says so in `truncated` (and `leftOut`). Strings that no column can hold (NUL,
lone surrogates) are replaced and JSON nested deeper than the v1 limit is cut, so a facet
never costs the run its state; identity fields (`run.runId`, `job.namespace`, `job.name`,
`eventTime`) are checked instead and refused with a 422 naming their dotted path.

Every mapped event has the key `ol/<eventType>/<eventTime in UTC>/<role>`, unique within its
run (`run.runId`): a retried RunEvent is answered as duplicates and stored once.
DatasetEvents and JobEvents (static lineage, no run) are refused with 422.
"""

import hashlib
import json
import logging
import math
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import WRITE, authorize
from ingest.context import INGEST
from ingest.documents import timestamp
from ingest.errors import Invalid, details, problems
from ingest.events_api import count_ingested, decode_json, read_body, to_incoming
from ingest.schemas import (
    MAX_JSON_DEPTH,
    MAX_PAYLOAD_BYTES,
    EventBatch,
    Key,
    Timestamp,
    clean_text,
)
from storage import queries
from storage.writer import IncomingEvent

log = logging.getLogger(__name__)

STATES = ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER")
FINISHES = {"COMPLETE": "succeeded", "FAIL": "failed", "ABORT": "cancelled"}
MAX_NAME = 128
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_SLUG = 128
HASH_CHARS = 10
MAX_ATTRIBUTE_TEXT_BYTES = 1024  # seven such strings stay well inside the 16 KiB of attributes
MAX_ERROR_MESSAGE_BYTES = 16 * 1024
PAYLOAD_RESERVE = 4 * 1024  # room for the wrapper and the `truncated` explanation
PER_DATASET_METRICS_LIMIT = 50
MAX_LEFT_OUT_BYTES = 2 * 1024
LIMIT_TEXT = f"{MAX_PAYLOAD_BYTES // 1024} KiB payload limit"
TOO_DEEP = "(left out: nested too deeply)"
NOT_SLUG = re.compile(r"[^a-z0-9._]+")

# Where each side's statistics are read from, first found wins: (facet group, facet, field -> unit).
STATISTICS: dict[str, tuple[tuple[str, str, dict[str, str]], ...]] = {
    "read": (
        ("inputFacets", "inputStatistics", {"rowCount": "rows", "size": "bytes", "fileCount": "files"}),
        ("inputFacets", "dataQualityMetrics", {"rowCount": "rows", "bytes": "bytes", "fileCount": "files"}),
    ),
    "written": (
        ("outputFacets", "outputStatistics", {"rowCount": "rows", "size": "bytes", "fileCount": "files"}),
    ),
}

Mapped = tuple[str, dict[str, Any]]  # (role in the event key, v1 event fields)


# --- the handler ----------------------------------------------------------------------------


async def post_lineage(request: web.Request) -> web.Response:
    started = time.perf_counter()
    received_at = request.app[INGEST].clock()
    await authorize(request, WRITE)
    event = parse_run_event(decode_json(await read_body(request)))
    job = job_identity(event.job.namespace, event.job.name)
    events = to_incoming_events(map_run_event(event, job.slug), received_at)
    result = await request.app[INGEST].writer.write(events, received_at)
    count_ingested(request, events, result, started)
    await label_job(request, job)
    return web.json_response(
        {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "runs": [{"job": slug, "run": run} for slug, run in result.runs],
        },
        status=202,
    )


ROUTES = [web.post("/api/v1/lineage", post_lineage, name="lineage")]


# --- the RunEvent as sent -------------------------------------------------------------------

Identity = Annotated[str, AfterValidator(clean_text)]
Facets = dict[str, Any] | None


class _Open(BaseModel):
    """OpenLineage objects may carry more than the spec names: keep it, refuse nothing extra."""

    model_config = ConfigDict(extra="allow", frozen=True)


class LineageRun(_Open):
    runId: Key
    facets: Facets = None


class LineageJob(_Open):
    namespace: Identity
    name: Annotated[Identity, Field(min_length=1)]
    facets: Facets = None


class LineageDataset(_Open):
    namespace: str
    name: str
    facets: Facets = None
    inputFacets: Facets = None
    outputFacets: Facets = None


class LineageRunEvent(_Open):
    eventTime: Timestamp
    eventType: str | None = None
    producer: str | None = None
    schemaURL: str | None = None
    run: LineageRun
    job: LineageJob
    inputs: list[LineageDataset] | None = None
    outputs: list[LineageDataset] | None = None


def parse_run_event(body: Any) -> LineageRunEvent:
    if not isinstance(body, dict):
        raise Invalid("send one OpenLineage RunEvent object", [
            {"index": 0, "field": "(body)", "message": "must be a JSON object"}])
    try:
        return LineageRunEvent.model_validate(body)
    except ValidationError as exc:
        raise Invalid(f"{_what_was_sent(body)}; nothing was stored", details(exc)) from None


def _what_was_sent(body: dict[str, Any]) -> str:
    if "run" not in body and "dataset" in body:
        return "this is a DatasetEvent: only RunEvents are stored"
    if "run" not in body and "job" in body:
        return "this is a JobEvent: only RunEvents are stored"
    return "the RunEvent is invalid"


# --- the job --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobIdentity:
    slug: str
    title: str
    alias: str


def job_identity(namespace: str, name: str) -> JobIdentity:
    return JobIdentity(
        slug=job_slug(namespace, name),
        title=shorten(name, MAX_TITLE),
        alias=shorten(f"{namespace}/{name}", MAX_NAME),
    )


def job_slug(namespace: str, name: str) -> str:
    """A v1 slug for an OpenLineage job. Over 128 characters it is cut and ends in a hash of
    both original names, so that long names which differ only at the end stay apart."""
    folded = unicodedata.normalize("NFKD", f"{namespace}/{name}").encode("ascii", "ignore").decode()
    slug = NOT_SLUG.sub("-", folded.lower()).strip("-.")
    digest = _digest(json.dumps([namespace, name]))
    if not slug:
        return f"openlineage-{digest}"
    if len(slug) > MAX_SLUG:
        return f"{slug[:MAX_SLUG - HASH_CHARS - 1].rstrip('-.')}-{digest}"
    return slug


def shorten(text: str, limit: int, *, keep_tail: bool = False) -> str:
    """`text` if it fits, else its head (or tail) and a hash of all of it, `limit` long."""
    if len(text) <= limit:
        return text
    digest = _digest(text)
    if keep_tail:
        return f"{digest}~{text[len(text) - (limit - HASH_CHARS - 1):]}"
    return f"{text[:limit - HASH_CHARS - 1]}~{digest}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


async def label_job(request: web.Request, job: JobIdentity) -> None:
    """Give a job without aliases its OpenLineage names; a title an admin set is kept.

    Runs after the batch is committed: the events are stored whatever happens here, and a
    job left unlabelled is labelled by its next event."""
    try:
        async with AsyncSession(request.app[INGEST].engine, expire_on_commit=False) as session:
            stored = await queries.get_job(job.slug, session=session)
            if stored is None or stored.aliases:
                return
            fields: dict[str, Any] = {"aliases": [job.alias]}
            if stored.title == stored.slug:
                fields["title"] = job.title
            await queries.put_job(job.slug, fields, request.app[INGEST].clock(), session=session)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("could not label job %r with its OpenLineage names: %s", job.slug, exc)


# --- RunEvent -> v1 events ------------------------------------------------------------------


def map_run_event(event: LineageRunEvent, slug: str) -> list[dict[str, Any]]:
    """The v1 events (as `POST /v1/events` would take them) of one RunEvent."""
    state = event_state(event.eventType)
    error = _error_facet(event)
    body = [
        *_datasets_payloads(event),
        *_statistics_metrics(event),
        *_facets_payload(event, skip_error=error is not None),
        *_error_events(error),
    ]
    transition = _transition(event, state, error)
    ordered = [*transition, *body] if state == "START" else [*body, *transition]
    common = {"job": slug, "run": event.run.runId, "at": event.eventTime.isoformat()}
    prefix = f"ol/{state}/{timestamp(event.eventTime)}"
    return [{**common, "id": f"{prefix}/{role}", **fields} for role, fields in ordered]


def event_state(event_type: str | None) -> str:
    """START ... OTHER; an absent or unknown eventType counts as OTHER."""
    upper = (event_type or "").upper()
    return upper if upper in STATES else "OTHER"


def _transition(event: LineageRunEvent, state: str, error: dict[str, Any] | None) -> list[Mapped]:
    if state == "START":
        return [("start", {"kind": "start", "attributes": start_attributes(event)})]
    if state == "RUNNING":
        return [("progress", _heartbeat(event))]
    if state in FINISHES:
        finish: dict[str, Any] = {"kind": "finish", "status": FINISHES[state]}
        if state == "FAIL" and error is not None:
            finish["text"] = _clip(_first_line(_clean_text(error["message"])), MAX_TEXT)
        return [("finish", finish)]
    return [("note", {"kind": "note", "level": "info", "text": _other_text(event.eventType)})]


def _other_text(event_type: str | None) -> str:
    if event_type is None:
        return "OpenLineage event without eventType"
    if event_type.upper() == "OTHER":
        return "OpenLineage OTHER event"
    return _clip(_clean_text(f"OpenLineage event of unknown eventType {event_type!r}"), MAX_TEXT)


def start_attributes(event: LineageRunEvent) -> dict[str, Any]:
    facets = event.run.facets or {}
    nominal = _mapping(facets.get("nominalTime"))
    parent = _mapping(facets.get("parent"))
    attributes = {
        "producer": _attribute_text(event.producer),
        "schemaURL": _attribute_text(event.schemaURL),
        "nominalStartTime": _attribute_text(nominal.get("nominalStartTime")),
        "nominalEndTime": _attribute_text(nominal.get("nominalEndTime")),
        "parent": _parent(parent),
    }
    return {name: value for name, value in attributes.items() if value is not None}


def _parent(facet: dict[str, Any]) -> dict[str, str] | None:
    job, run = _mapping(facet.get("job")), _mapping(facet.get("run"))
    parent = {
        "namespace": _attribute_text(job.get("namespace")),
        "name": _attribute_text(job.get("name")),
        "runId": _attribute_text(run.get("runId")),
    }
    kept = {name: value for name, value in parent.items() if value is not None}
    return kept or None


def _attribute_text(value: Any) -> str | None:
    return _clip_bytes(_clean_text(value), MAX_ATTRIBUTE_TEXT_BYTES) if isinstance(value, str) else None


def _heartbeat(event: LineageRunEvent) -> dict[str, Any]:
    totals = _side_totals(event.outputs, "written") or {}
    rows = totals.get("rows")
    if rows is None:
        rows = (_side_totals(event.inputs, "read") or {}).get("rows")
    if rows is None:
        return {"kind": "progress", "stage": "running", "done": 0}
    return {"kind": "progress", "stage": "running", "done": max(0.0, rows), "unit": "rows"}


# --- errorMessage ---------------------------------------------------------------------------


def _error_facet(event: LineageRunEvent) -> dict[str, Any] | None:
    facet = (event.run.facets or {}).get("errorMessage")
    if isinstance(facet, dict) and isinstance(facet.get("message"), str):
        return facet
    return None  # absent or not as the spec says: kept with the other facets


def _error_events(facet: dict[str, Any] | None) -> list[Mapped]:
    if facet is None:
        return []
    message = _clean_text(facet["message"])
    language = facet.get("programmingLanguage")
    text = f"[{_clean_text(language)}] {message}" if isinstance(language, str) and language else message
    return [
        ("error-note", {"kind": "note", "level": "error", "text": _clip(text, MAX_TEXT)}),
        ("error", {"kind": "payload", "name": "openlineage.errorMessage", "data": _error_data(facet)}),
    ]


def _error_data(facet: dict[str, Any]) -> dict[str, Any]:
    """The message, language and stack trace, in 64 KiB: the stack trace gets what is left."""
    data: dict[str, Any] = {"message": _clip_bytes(_clean_text(facet["message"]), MAX_ERROR_MESSAGE_BYTES)}
    language = facet.get("programmingLanguage")
    if isinstance(language, str):
        data["programmingLanguage"] = _clip(_clean_text(language), MAX_NAME)
    trace = facet.get("stackTrace")
    if isinstance(trace, str):
        room = MAX_PAYLOAD_BYTES - _size(data) - len('"stackTrace":,')
        data["stackTrace"] = _clip_bytes(_clean_text(trace), room)
    return data


# --- datasets -------------------------------------------------------------------------------


def _datasets_payloads(event: LineageRunEvent) -> list[Mapped]:
    payloads = []
    for side, datasets in (("inputs", event.inputs), ("outputs", event.outputs)):
        if datasets:
            data = fit_datasets([_clean(_as_sent(dataset), depth=3) for dataset in datasets])
            payloads.append((side, {"kind": "payload", "name": side, "data": data}))
    return payloads


def _as_sent(dataset: LineageDataset) -> dict[str, Any]:
    return {name: value for name, value in dataset.model_dump().items() if value is not None}


def fit_datasets(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """{"datasets": entries} in 64 KiB: the entries that save most lose their facets first,
    then whole entries go, largest first; `truncated` says what happened."""
    entries = list(entries)
    excess = _size({"datasets": entries}) - MAX_PAYLOAD_BYTES
    if excess <= 0:
        return {"datasets": entries}
    bare = [_bare_dataset(entry) for entry in entries]
    savings = [_size(entry) - _size(small) for entry, small in zip(entries, bare, strict=True)]
    stripped = largest_first(savings, excess + PAYLOAD_RESERVE)
    for index in stripped:
        entries[index] = bare[index]
    excess = _size({"datasets": entries}) - (MAX_PAYLOAD_BYTES - PAYLOAD_RESERVE)
    dropped = set(largest_first([_size(entry) + 1 for entry in entries], excess))
    note = f"over the {LIMIT_TEXT}: facets of {len(stripped)} datasets left out"
    if dropped:
        note += f", and {len(dropped)} of {len(entries)} datasets left out"
    kept = [entry for index, entry in enumerate(entries) if index not in dropped]
    return {"datasets": kept, "truncated": note}


def _bare_dataset(entry: dict[str, Any]) -> dict[str, Any]:
    """Namespace, name and the names of the facets left out."""
    names = [f"{group}.{name}" for group in ("facets", "inputFacets", "outputFacets")
             for name in _mapping(entry.get(group))]
    return {
        "namespace": _clip_bytes(str(entry.get("namespace", "")), 1024),
        "name": _clip_bytes(str(entry.get("name", "")), 1024),
        "leftOut": _names_within(names, MAX_LEFT_OUT_BYTES),
    }


def largest_first(savings: list[int], excess: int) -> list[int]:
    """Indexes of the parts to give up, those saving most first, until `excess` bytes are saved
    (or nothing more saves any)."""
    chosen: list[int] = []
    saved = 0
    for index in sorted(range(len(savings)), key=lambda i: savings[i], reverse=True):
        if saved >= excess or savings[index] <= 0:
            break
        chosen.append(index)
        saved += savings[index]
    return chosen


def _names_within(names: list[str], max_bytes: int) -> list[str]:
    """As many of `names` (each clipped to 128 characters) as fit in `max_bytes`."""
    kept: list[str] = []
    used = 2
    for name in names:
        clipped = _clip(name, MAX_NAME)
        used += _size(clipped) + 1
        if used > max_bytes:
            break
        kept.append(clipped)
    return kept


# --- statistics -----------------------------------------------------------------------------


def _statistics_metrics(event: LineageRunEvent) -> list[Mapped]:
    metrics: list[tuple[str, float, str]] = []
    for datasets, verb in ((event.inputs, "read"), (event.outputs, "written")):
        metrics.extend(side_metrics(datasets or [], verb))
    return [
        (f"metric/{i}", {"kind": "metric", "name": name, "value": value, "unit": unit})
        for i, (name, value, unit) in enumerate(metrics)
    ]


def side_metrics(datasets: list[LineageDataset], verb: str) -> list[tuple[str, float, str]]:
    """(name, value, unit) of one side: totals, and each dataset's own when there are several."""
    readings = [_dataset_statistics(dataset, verb) for dataset in datasets]
    metrics = [(f"{unit}_{verb}", value, unit) for unit, value in _totals(readings).items()]
    if 1 < len(datasets) <= PER_DATASET_METRICS_LIMIT:
        labels = _dataset_labels(datasets)
        for label, reading in zip(labels, readings, strict=True):
            for unit, value in reading.items():
                suffix = f":{unit}_{verb}"
                metrics.append((shorten(label, MAX_NAME - len(suffix), keep_tail=True) + suffix, value, unit))
    return metrics


def _side_totals(datasets: list[LineageDataset] | None, verb: str) -> dict[str, float] | None:
    if not datasets:
        return None
    return _totals([_dataset_statistics(dataset, verb) for dataset in datasets])


def _totals(readings: list[dict[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for reading in readings:
        for unit, value in reading.items():
            totals[unit] = totals.get(unit, 0.0) + value
    return {unit: value for unit, value in totals.items() if math.isfinite(value)}


def _dataset_statistics(dataset: LineageDataset, verb: str) -> dict[str, float]:
    """{"rows": ..., "bytes": ..., "files": ...}, each from the first facet that has it."""
    found: dict[str, float] = {}
    for group, facet_name, fields in STATISTICS[verb]:
        facet = _mapping(_mapping(getattr(dataset, group)).get(facet_name))
        for field, unit in fields.items():
            value = _number(facet.get(field))
            if value is not None and unit not in found:
                found[unit] = value
    return found


def _dataset_labels(datasets: list[LineageDataset]) -> list[str]:
    """Each dataset's name, or `namespace/name` where names repeat on one side."""
    names = [d.name for d in datasets]
    return [_clean_text(d.name if names.count(d.name) == 1 else f"{d.namespace}/{d.name}") or "(unnamed)"
            for d in datasets]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


# --- other facets ---------------------------------------------------------------------------


def _facets_payload(event: LineageRunEvent, *, skip_error: bool) -> list[Mapped]:
    run = {k: v for k, v in (event.run.facets or {}).items() if not (skip_error and k == "errorMessage")}
    groups = {group: facets for group, facets in (("run", run), ("job", event.job.facets or {})) if facets}
    if not groups:
        return []
    data = fit_facets(_clean(groups))
    return [("facets", {"kind": "payload", "name": "openlineage.facets", "data": data})]


def fit_facets(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """{"run": {...}, "job": {...}} in 64 KiB, leaving out the largest facets first."""
    excess = _size(groups) - MAX_PAYLOAD_BYTES
    if excess <= 0:
        return groups
    parts = [(group, name) for group, facets in groups.items() for name in facets]
    savings = [_size({name: groups[group][name]}) - 1 for group, name in parts]
    dropped = {parts[index] for index in largest_first(savings, excess + PAYLOAD_RESERVE)}
    fitted: dict[str, Any] = {
        group: {name: facet for name, facet in facets.items() if (group, name) not in dropped}
        for group, facets in groups.items()
    }
    left_out = [f"{group}.{name}" for group, name in parts if (group, name) in dropped]
    fitted["leftOut"] = _names_within(left_out, MAX_LEFT_OUT_BYTES)
    fitted["truncated"] = f"over the {LIMIT_TEXT}: {len(dropped)} facets left out, the largest first"
    return fitted


# --- v1 validation --------------------------------------------------------------------------


def to_incoming_events(mapped: list[dict[str, Any]], received_at: datetime) -> list[IncomingEvent]:
    """Validate the mapped events with the v1 schemas, so they obey every v1 limit."""
    try:
        events = EventBatch.validate_python(mapped)
    except ValidationError as exc:
        log.error("an OpenLineage RunEvent mapped to invalid v1 events: %s", exc)
        raise Invalid("the RunEvent maps to events this server cannot store; nothing was stored",
                      [_mapped_detail(mapped, loc, message) for loc, _, message in problems(exc)]
                      ) from None
    return [to_incoming(event, received_at) for event in events]


def _mapped_detail(mapped: list[dict[str, Any]], loc: Iterable[Any], message: str) -> dict[str, Any]:
    parts = list(loc)
    index = parts.pop(0) if parts and isinstance(parts[0], int) else 0
    kind = mapped[index].get("kind") if index < len(mapped) else None
    if parts and parts[0] == kind:
        parts.pop(0)
    field = ".".join(str(part) for part in parts)
    return {"index": 0, "field": f"(mapped {kind} event).{field}", "message": message}


# --- JSON helpers ---------------------------------------------------------------------------


def _size(value: Any) -> int:
    """Bytes of `value` serialized as the v1 limits measure it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clean(value: Any, depth: int = 1) -> Any:
    """`value` with every string storable and nothing nested deeper than the v1 limit;
    `depth` is where `value` sits in the payload."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict | list) and value and depth >= MAX_JSON_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def _clean_text(text: str) -> str:
    """NUL and lone surrogates, which no column takes, replaced."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)


def _clip(text: str, max_chars: int) -> str:
    """At most `max_chars` characters: the head and the tail, and how much was left out."""
    if len(text) <= max_chars:
        return text
    marker = f"\n… [{len(text)} characters, some left out] …\n"
    room = max(0, max_chars - len(marker))
    head = room - room // 2
    return f"{text[:head]}{marker}{text[len(text) - room // 2:]}"[:max_chars]


def _clip_bytes(text: str, max_bytes: int) -> str:
    """At most `max_bytes` bytes once serialized (quotes and escapes included)."""
    size = _size(text)
    if size <= max_bytes:
        return text
    keep = len(text) * max_bytes // size
    while keep > 0:
        clipped = _clip(text, keep)
        if _size(clipped) <= max_bytes:
            return clipped
        keep = keep * 9 // 10
    return ""
