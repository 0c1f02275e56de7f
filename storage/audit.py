"""The audit log: every change a person makes, with who, when, what and from where.

Rows are only ever added. Nothing in the API updates or deletes them, and the database
refuses to (triggers added by migration 0004), so an entry cannot be quietly rewritten by
a bug either. Retention does not touch this table."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
ACTIONS = (
    "job.defined",  # PUT /v1/jobs/{slug} or `opentrace jobs apply`, with the fields that changed
    "token.created", "token.revoked",
    "alert.acknowledged", "alert.snoozed",
    "subscription.added", "subscription.removed",
    "audience.refused",  # someone asked about a job whose audience does not include them
)
# Activities from tenants OPENTRACE_ALLOWED_TENANTS does not list are not audited: nothing of
# them is stored at all (the server log has a line).


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    actor: str = Field(max_length=300)  # "token ops-admin", "Teams user Ana Lopez (aad id)", "cli …"
    action: str = Field(max_length=64, index=True)
    target: str = Field(max_length=500)  # a job slug, a token name, "alert 17"
    origin: str = Field(max_length=500)  # an IP address, a Teams team/channel, a host
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def record_change(action: str, *, actor: str, target: str, origin: str, at: datetime,
                  details: dict[str, Any] | None = None, session: AsyncSession) -> AuditEntry:
    """Add an entry to the session: it commits with the change it describes, or not at all."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(at=at, actor=actor[:300], action=action, target=target[:500],
                       origin=origin[:500], details=details or {})
    session.add(entry)
    return entry


async def audit_entries(*, since: datetime | None = None, until: datetime | None = None,
                        action: str | None = None, actor: str | None = None,
                        target: str | None = None, before_id: int | None = None, limit: int = 100,
                        session: AsyncSession) -> Sequence[AuditEntry]:
    """Newest first. `action` matches a whole action or its family ("alert" finds both
    alert actions); `actor` and `target` match a part, ignoring case."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.at) < until)
    if action:
        query = query.where((col(AuditEntry.action) == action)
                            | col(AuditEntry.action).startswith(f"{action}."))
    if actor:
        query = query.where(col(AuditEntry.actor).icontains(actor, autoescape=True))
    if target:
        query = query.where(col(AuditEntry.target).icontains(target, autoescape=True))
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    query = query.order_by(col(AuditEntry.id).desc()).limit(limit)
    return (await session.exec(query)).all()
