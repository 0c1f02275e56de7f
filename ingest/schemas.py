"""The v1 contract: what a client may send, validated before anything is stored."""

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from ingest.timestamps import parse_rfc3339
from storage.durations import parse_duration

MAX_EVENTS = 1000
MAX_BODY_BYTES = 1024 * 1024
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_ATTRIBUTES_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32
SLUG_PATTERN = r"^[a-z0-9._-]{1,128}$"
SLUG = re.compile(SLUG_PATTERN)


def clean_text(value: str) -> str:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


SLUG_RULE = "must be 1-128 of lowercase letters, digits, '.', '_', '-'"


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG.match(value)) and value.strip(".") != ""


def check_slug(value: str) -> str:
    if not is_slug(value):
        raise ValueError(SLUG_RULE)
    return value


def check_json(value: Any, max_bytes: int) -> Any:
    _check_tree(value)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        raise ValueError(f"is {size} bytes serialized; at most {max_bytes} allowed")
    return value


def json_limits(max_bytes: int) -> AfterValidator:
    return AfterValidator(lambda value: check_json(value, max_bytes))


def _check_tree(value: Any) -> None:
    """Bound nesting depth and clean every string, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            clean_text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                clean_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


Slug = Annotated[str, Field(max_length=128), AfterValidator(check_slug)]
Key = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(clean_text)]
Name = Key
Unit = Annotated[str, Field(max_length=32), AfterValidator(clean_text)]
Text = Annotated[str, Field(max_length=4000), AfterValidator(clean_text)]
Timestamp = Annotated[datetime, BeforeValidator(parse_rfc3339)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Count = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Attributes = Annotated[dict[str, Any], json_limits(MAX_ATTRIBUTES_BYTES)]
PayloadData = Annotated[Any, json_limits(MAX_PAYLOAD_BYTES)]

RUN_STATUSES = ("succeeded", "failed", "partial", "cancelled")
MILESTONE_STATUSES = ("reached", "failed", "skipped")
NOTE_LEVELS = ("info", "warning", "error")


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    job: Slug
    run: Key | None = None
    at: Timestamp | None = None
    id: Key | None = None


class StartEvent(EventBase):
    kind: Literal["start"]
    attributes: Attributes = Field(default_factory=dict)


class ProgressEvent(EventBase):
    kind: Literal["progress"]
    done: Count
    total: Count | None = None
    unit: Unit | None = None
    stage: Name | None = None


class MetricEvent(EventBase):
    kind: Literal["metric"]
    name: Name
    value: Number
    unit: Unit | None = None


class NoteEvent(EventBase):
    kind: Literal["note"]
    text: Text
    level: Literal["info", "warning", "error"] = "info"


class PayloadEvent(EventBase):
    kind: Literal["payload"]
    name: Name
    data: PayloadData


class DurationEvent(EventBase):
    kind: Literal["duration"]
    name: Name
    seconds: Count


class MilestoneEvent(EventBase):
    kind: Literal["milestone"]
    name: Name
    status: Literal["reached", "failed", "skipped"] = "reached"
    text: Text | None = None


class FinishEvent(EventBase):
    kind: Literal["finish"]
    status: Literal["succeeded", "failed", "partial", "cancelled"]
    text: Text | None = None


AnyEvent = Annotated[
    StartEvent | ProgressEvent | MetricEvent | NoteEvent | PayloadEvent | DurationEvent
    | MilestoneEvent | FinishEvent,
    Field(discriminator="kind"),
]
EVENT_KINDS = ("start", "progress", "metric", "note", "payload", "duration", "milestone", "finish")
EventBatch: TypeAdapter[list[AnyEvent]] = TypeAdapter(list[AnyEvent])


# --- The quick check ------------------------------------------------------------------------
# Most batches are well-formed, and building a model per event only to dump it again was a
# quarter of the ingest path's time. `quick_check` applies the rules above to the parsed JSON and
# gives what `model_dump` would, or None as soon as anything is off (a mistake, or a shape it
# leaves to the models); the caller then validates with the models, which name each problem.
# It must never accept what the models refuse: tests/ingest/test_quick_check.py holds it to that.


class Checked(NamedTuple):
    """A valid event: its common fields, and its kind's fields as `model_dump` gives them
    (declaration order, defaults filled in, None left out)."""

    job: str
    run: str | None
    at: datetime | None
    id: str | None
    kind: str
    data: dict[str, Any]


_NO = object()  # a check's answer for "not sure it is valid"
_ABSENT = object()
_REQUIRED = object()
_INT64 = 2**63
Check = Callable[[Any], Any]


def _text(max_length: int, min_length: int = 0) -> Check:
    def check(value: Any) -> Any:
        if type(value) is not str or not min_length <= len(value) <= max_length or "\x00" in value:
            return _NO
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return _NO
        return value

    return check


def _number(value: Any) -> Any:
    """`Number`: a finite JSON number (never a bool), as a float."""
    if type(value) is float:
        return value if math.isfinite(value) else _NO
    if type(value) is int and -_INT64 <= value < _INT64:
        return float(value)
    return _NO


def _count(value: Any) -> Any:
    number = _number(value)
    return number if number is _NO or number >= 0 else _NO


def _one_of(*choices: str) -> Check:
    return lambda value: value if type(value) is str and value in choices else _NO


def _json(max_bytes: int, *, object_only: bool) -> Check:
    def check(value: Any) -> Any:
        if object_only and type(value) is not dict:
            return _NO
        try:
            return check_json(value, max_bytes)
        except ValueError:
            return _NO

    return check


_key = _text(128, 1)
_unit = _text(32)
_long_text = _text(4000)
# Each kind's own fields in declaration order: (name, check, _REQUIRED | None | default factory).
_KIND_FIELDS: dict[str, tuple[tuple[str, Check, Any], ...]] = {
    "start": (("attributes", _json(MAX_ATTRIBUTES_BYTES, object_only=True), dict),),
    "progress": (("done", _count, _REQUIRED), ("total", _count, None), ("unit", _unit, None),
                 ("stage", _key, None)),
    "metric": (("name", _key, _REQUIRED), ("value", _number, _REQUIRED), ("unit", _unit, None)),
    "note": (("text", _long_text, _REQUIRED), ("level", _one_of(*NOTE_LEVELS), lambda: "info")),
    "payload": (("name", _key, _REQUIRED),
                ("data", _json(MAX_PAYLOAD_BYTES, object_only=False), _REQUIRED)),
    "duration": (("name", _key, _REQUIRED), ("seconds", _count, _REQUIRED)),
    "milestone": (("name", _key, _REQUIRED), ("status", _one_of(*MILESTONE_STATUSES), lambda: "reached"),
                  ("text", _long_text, None)),
    "finish": (("status", _one_of(*RUN_STATUSES), _REQUIRED), ("text", _long_text, None)),
}
_ALLOWED = {kind: frozenset({"job", "run", "at", "id", "kind"} | {name for name, _, _ in fields})
            for kind, fields in _KIND_FIELDS.items()}


def quick_check(items: list[Any]) -> list[Checked] | None:
    """Every event checked without models, or None: then validate with `EventBatch`."""
    checked = []
    for item in items:
        event = _quick_event(item)
        if event is None:
            return None
        checked.append(event)
    return checked


def _quick_event(item: Any) -> Checked | None:
    if type(item) is not dict:
        return None
    kind: Any = item.get("kind")
    allowed = _ALLOWED.get(kind) if type(kind) is str else None
    if allowed is None or not allowed.issuperset(item):
        return None
    job: Any = item.get("job")
    run, key, at = item.get("run"), item.get("id"), item.get("at")
    if not is_slug(job) or (run is not None and _key(run) is _NO) or (
            key is not None and _key(key) is _NO):
        return None
    if at is not None:
        try:
            at = parse_rfc3339(at)
        except ValueError:
            return None
    data: dict[str, Any] = {}
    for name, check, default in _KIND_FIELDS[kind]:
        value = item.get(name, _ABSENT)
        if value is _ABSENT:
            if default is _REQUIRED:
                return None
            if default is not None:
                data[name] = default()
        elif value is None:
            if default is not None:  # refused, or (payload data) rare enough for the models
                return None
        else:
            value = check(value)
            if value is _NO:
                return None
            data[name] = value
    return Checked(job, run, at, key, kind, data)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Berlin") from None
    if value not in available_timezones() and value != "UTC":
        raise ValueError("must be an IANA time zone such as Europe/Berlin")
    return value


Alias = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(clean_text)]


def check_duration(value: str) -> str:
    parse_duration(value)
    return value


DurationText = Annotated[str, Field(max_length=32), AfterValidator(check_duration)]


class MilestoneDeadline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    by: DurationText  # after the scheduled time


class MetricBounds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: Number | None = None
    max: Number | None = None
    usual: bool = False  # flag values far outside the job's own recent history

    @model_validator(mode="after")
    def says_something(self) -> "MetricBounds":
        if self.min is None and self.max is None and not self.usual:
            raise ValueError("give min, max or usual: true")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_within: DurationText | None = None
    max_runtime: DurationText | None = None
    milestones: Annotated[list[MilestoneDeadline], Field(max_length=50)] = Field(default_factory=list)
    metrics: Annotated[dict[Name, MetricBounds], Field(max_length=50)] = Field(default_factory=dict)
    final_milestone: Name | None = None


AlertTarget = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(clean_text)]
# A team, channel or chat (name or id), or a person (Entra object id or UPN).
AudienceMember = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(clean_text)]


class JobDefinition(BaseModel):
    """`PUT /v1/jobs/{job}` replaces these fields; absent ones take their defaults."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(clean_text)] | None = None
    description: Annotated[str, Field(max_length=4000), AfterValidator(clean_text)] = ""
    aliases: Annotated[list[Alias], Field(max_length=50)] = Field(default_factory=list)
    owner: Annotated[str, Field(max_length=200), AfterValidator(clean_text)] = ""
    timezone: Annotated[str, AfterValidator(check_timezone)] | None = None
    schedule: Annotated[str, Field(max_length=100)] | None = None  # cron, in `timezone`
    expect: Expectations = Field(default_factory=Expectations)
    alert: Annotated[list[AlertTarget], Field(max_length=20)] = Field(default_factory=list)
    # Who may see the job in Teams; empty: everyone. Elsewhere (the API, the CLI) tokens decide.
    audience: Annotated[list[AudienceMember], Field(max_length=100)] = Field(default_factory=list)
