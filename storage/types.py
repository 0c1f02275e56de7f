"""Column types shared by the tables."""

import json
import json.encoder
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite keeps no offset, so values are normalised to UTC before they are written and
    marked UTC when read; PostgreSQL stores `timestamptz` and gets the same treatment.
    A naive datetime reaching this column is a programming error, not data to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def sqlite_utc(value: datetime) -> str:
    """What `UTCDateTime` and SQLAlchemy's SQLite DateTime write for an aware datetime:
    naive UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (always six digits), so reads are unchanged."""
    if value.tzinfo is not UTC:
        value = aware_utc(value).astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def aware_utc(value: datetime) -> datetime:
    """What asyncpg takes for `timestamptz`: the aware datetime itself."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value


def _json_writer() -> Callable[[Any], str]:
    """`json.dumps` with its default settings — the text SQLAlchemy's JSON type writes — made
    with one encoder for the process instead of a new one per call (a third of the cost of a
    small object). No check for cycles: what is written comes from parsed JSON."""
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # no C accelerator (another Python implementation)
        return json.dumps
    encode = make_encoder(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                          None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


write_json = _json_writer()
