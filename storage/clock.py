"""The clock every layer takes as a dependency, so tests (and the demo) can set "now"."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
