"""`opentrace audit`: who changed what, when and from where — and who the command line is."""

import getpass
import json
import socket
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.wording import zoned_timestamp
from ingest.timestamps import parse_rfc3339
from storage.audit import audit_entries


def cli_actor() -> str:
    """Changes made on the command line are the operating-system user's."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name, e.g. an arbitrary uid in a container
        user = "unknown user"
    return f"cli {user}"


def cli_origin() -> str:
    return f"command line on {socket.gethostname()}"


def parse_since(text: str, zone: ZoneInfo) -> datetime:
    """A date (midnight in `zone`, the server's OPENTRACE_TIMEZONE) or an RFC 3339 time."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return parse_rfc3339(text)
    return datetime.combine(day, time(0), tzinfo=zone)


async def print_audit(session: AsyncSession, *, since: datetime | None, action: str | None,
                      actor: str | None, target: str | None, limit: int, zone: ZoneInfo) -> int:
    entries = await audit_entries(since=since, action=action, actor=actor, target=target,
                                  limit=max(1, min(limit, 1000)), session=session)
    if not entries:
        print("no audit entries match")
        return 0
    for entry in entries:
        print(f"{zoned_timestamp(entry.at, zone)}  {entry.action:<20} {entry.target}")
        print(f"      by {entry.actor} from {entry.origin}")
        if entry.details:
            print(f"      {json.dumps(entry.details, ensure_ascii=False, sort_keys=True)}")
    return 0
