"""Where the Teams bot may post: one row per conversation it was added to.

`reference` is Bot Framework's ConversationReference as its JSON (camelCase) serialization;
storage does not interpret it. A proactive sender restores it with
`ConversationReference().deserialize(row.reference)`. The other columns are copies made for
listing and choosing where to post without parsing JSON."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import UTCDateTime

SCOPES = ("personal", "groupChat", "team")  # the Teams manifest's bot scopes
# Names are not sent with every activity; a later activity without them keeps the known ones.
NAME_FIELDS = ("team_name", "channel_name", "person_upn")


class ConversationBase(SQLModel):
    """What the bot learns about a conversation from an activity."""

    conversation_id: str = Field(max_length=500, unique=True)
    scope: str = Field(max_length=16)
    tenant_id: str | None = Field(default=None, max_length=100)
    team_id: str | None = Field(default=None, max_length=500)
    team_name: str | None = Field(default=None, max_length=200)
    channel_id: str | None = Field(default=None, max_length=500)
    channel_name: str | None = Field(default=None, max_length=200)
    # In a personal chat, the person: Entra object id and user principal name (looked up once).
    person_id: str | None = Field(default=None, max_length=100)
    person_upn: str | None = Field(default=None, max_length=300)
    service_url: str = Field(max_length=500)
    reference: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Conversation(ConversationBase, table=True):
    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    installed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


async def get_conversation(conversation_id: str, *, session: AsyncSession) -> Conversation | None:
    query = select(Conversation).where(Conversation.conversation_id == conversation_id)
    return (await session.exec(query)).first()


async def any_conversation_of_team(team_id: str, *, session: AsyncSession) -> Conversation | None:
    """One stored channel of the team, for the team's name."""
    query = select(Conversation).where(Conversation.team_id == team_id,
                                       col(Conversation.team_name).is_not(None))
    return (await session.exec(query.limit(1))).first()


async def list_conversations(*, session: AsyncSession) -> Sequence[Conversation]:
    return (await session.exec(select(Conversation).order_by(col(Conversation.id)))).all()


async def save_conversation(
    found: ConversationBase, now: datetime, *, session: AsyncSession
) -> Conversation:
    """Insert or refresh the row for `found.conversation_id`.

    Teams announces an installation with a conversationUpdate and an installationUpdate at
    nearly the same moment, so two requests may both try to insert: the loser of the unique
    constraint retries as an update."""
    for attempt in range(2):
        row = await get_conversation(found.conversation_id, session=session)
        if row is None:
            row = Conversation(**found.model_dump(), installed_at=now, updated_at=now)
        else:
            for name, value in found.model_dump(exclude={"conversation_id"}).items():
                if value is not None or name not in NAME_FIELDS:
                    setattr(row, name, value)
            row.updated_at = now
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if attempt:
                raise
            continue
        await session.refresh(row)
        return row
    raise AssertionError("unreachable")


async def remove_conversation(conversation_id: str, *, session: AsyncSession) -> bool:
    """Forget one conversation; False when it was not stored."""
    result = await session.exec(
        delete(Conversation).where(col(Conversation.conversation_id) == conversation_id)
    )
    await session.commit()
    return bool(result.rowcount)


async def remove_team(team_id: str, *, session: AsyncSession) -> int:
    """Forget every channel of a team the bot was removed from; returns how many."""
    result = await session.exec(
        delete(Conversation).where(col(Conversation.team_id) == team_id)
    )
    await session.commit()
    return int(result.rowcount)
