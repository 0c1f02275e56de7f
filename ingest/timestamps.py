"""RFC 3339 timestamps: an offset or Z is required, the value is kept in UTC."""

import re
from datetime import UTC, datetime

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(value: object) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Naive times are refused rather than guessed: a job in Berlin and a server in UTC would
    otherwise silently disagree by an hour or two."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string, e.g. 2026-11-25T06:00:00+01:00")
    if not RFC3339.match(value):
        raise ValueError(
            "must be RFC 3339 with an offset or Z, e.g. 2026-11-25T06:00:00+01:00"
        )
    text = value.upper().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Python keeps microseconds; drop the rest
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"is not a valid date and time ({exc})") from None
