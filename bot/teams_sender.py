"""Posting alerts into Teams conversations the bot was added to (proactive messages), and
updating an alert's card in place once someone acknowledged or snoozed it.

The stored conversation reference carries the serviceUrl and the conversation; botbuilder's
`continue_conversation` builds a connector for it and sends without a turn from the user.
In a channel the post starts a new thread (the reference holds the channel, not a thread)."""

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import ClientException, HttpOperationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import DeliveryError, Message, retry_after_seconds
from storage.conversations import get_conversation

log = logging.getLogger(__name__)
GONE = (403, 404)  # the bot was removed, or the conversation no longer exists


class TeamsSender:
    def __init__(self, adapter: Any, engine: AsyncEngine, app_id: str) -> None:
        self._adapter = adapter
        self._engine = engine
        self._app_id = app_id

    async def send(self, target: str, message: Message) -> str | None:
        reference = await self._reference(target)
        sent: list[str | None] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity(message))
            sent.append(getattr(response, "id", None))

        await self._continue(reference, post)
        return sent[0] if sent else None

    async def update(self, target: str, activity_id: str, message: Message) -> None:
        """Replace a card already posted (the Bot Connector's update activity)."""
        reference = await self._reference(target)

        async def replace(turn_context: TurnContext) -> None:
            updated = activity(message)
            updated.id = activity_id
            await turn_context.update_activity(updated)

        await self._continue(reference, replace)

    async def _reference(self, target: str) -> ConversationReference:
        async with AsyncSession(self._engine) as session:
            conversation = await get_conversation(target, session=session)
        if conversation is None:
            raise DeliveryError("the bot is no longer in that conversation", permanent=True)
        return ConversationReference().deserialize(conversation.reference)

    async def _continue(self, reference: ConversationReference, logic: Any) -> None:
        try:
            await self._adapter.continue_conversation(reference, logic, self._app_id or None)
        except HttpOperationError as exc:
            status = _status(exc)
            raise DeliveryError(f"Bot Connector answered {status}: {exc.message}",
                                retry_after=_retry_after(exc), permanent=status in GONE) from exc
        except (ClientException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"Bot Connector unreachable: {exc!r}") from exc


def activity(message: Message) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(message.card), text=message.text)


def _status(exc: HttpOperationError) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if status else None


def _retry_after(exc: HttpOperationError) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return retry_after_seconds(headers.get("Retry-After"))
