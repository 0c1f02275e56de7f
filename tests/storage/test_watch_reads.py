"""The watcher reads timestamps in bulk by one function each: the same aware UTC datetimes
as the column type reads them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from storage.types import UTCDateTime
from storage.watch import _aware_utc_read, _sqlite_utc_read
from storage.writer import sqlite_utc


@pytest.mark.parametrize("text", ["2026-11-25 06:48:12.123456", "2026-11-25 06:48:12",
                                  "2026-03-29 01:00:00.000001", "2026-11-25T06:48:12+00:00",
                                  "2026-11-25 06:48:12+02:00"])
def test_sqlite_text_reads_as_the_column_type_reads_it(text: str) -> None:
    expected = UTCDateTime().process_result_value(
        sqlite.DATETIME().result_processor(sqlite.dialect(), None)(text), sqlite.dialect())
    found = _sqlite_utc_read(text)
    assert found == expected and found is not None and found.tzinfo is UTC


def test_what_is_written_reads_back() -> None:
    moment = datetime(2026, 11, 25, 6, 48, 12, 5, tzinfo=timezone(timedelta(hours=1)))
    found = _sqlite_utc_read(sqlite_utc(moment))
    assert found == moment and found is not None and found.tzinfo is UTC
    assert _sqlite_utc_read(None) is None and _aware_utc_read(None) is None
    read = _aware_utc_read(moment)
    assert read == moment and read is not None and read.tzinfo is UTC
