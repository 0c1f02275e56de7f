"""Posting alerts into Teams conversations the bot was added to (proactive messages): an
incident's card as a new thread in a channel, or that card updated in place.

The stored conversation reference carries the serviceUrl and the conversation; botbuilder's
`continue_conversation` builds a connector for it and runs our logic as a turn. Botbuilder
hands an exception raised inside that turn to the adapter's turn-error handler, which logs
and swallows it — a throttled or failed post would look sent. So the logic catches what the
Bot Connector answered and the sender raises it here, as a `DeliveryError` the deliverer
retries (honouring Retry-After); a connector that does not answer within `timeout` is a
failure too, not a deliverer stuck for ever."""

import asyncio
import logging
from typing import Any

import aiohttp
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import ClientException, HttpOperationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import DeliveryError, Message, retry_after_seconds
from storage.conversations import get_conversation

log = logging.getLogger(__name__)
GONE = (403, 404)  # the bot was removed, or the conversation no longer exists
SEND_TIMEOUT_SECONDS = 30.0


class TeamsSender:
    """`alerts.delivery.Sender` for Teams conversations."""

    def __init__(self, adapter: Any, engine: AsyncEngine, app_id: str, *,
                 timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self._adapter = adapter
        self._engine = engine
        self._app_id = app_id
        self._timeout = timeout

    async def send(self, target: str, message: Message, *, replace: str | None = None) -> str | None:
        """Post `message`, or put it in place of the posted activity `replace`; returns the
        activity id of the post. An update the Bot Connector refuses with 404 (the post was
        deleted) or 403 is permanent: the deliverer then posts anew."""
        reference = await self._reference(target)
        outcome: list[str | BaseException | None] = []

        async def post(turn_context: TurnContext) -> None:
            try:
                if replace:
                    updated = activity(message)
                    updated.id = replace
                    await turn_context.update_activity(updated)
                    outcome.append(replace)
                else:
                    response = await turn_context.send_activity(activity(message))
                    outcome.append(getattr(response, "id", None))
            except Exception as exc:  # surfaced below, after botbuilder's turn has ended
                outcome.append(exc)

        try:
            await asyncio.wait_for(
                self._adapter.continue_conversation(reference, post, self._app_id or None), self._timeout)
        except TimeoutError as exc:
            raise DeliveryError(f"Bot Connector did not answer within {self._timeout:g} s") from exc
        except Exception as exc:
            raise delivery_error(exc) from exc
        if not outcome:
            raise DeliveryError("the Bot Connector turn ended without sending anything")
        if isinstance(outcome[0], BaseException):
            raise delivery_error(outcome[0]) from outcome[0]
        return outcome[0]

    async def _reference(self, target: str) -> ConversationReference:
        async with AsyncSession(self._engine) as session:
            conversation = await get_conversation(target, session=session)
        if conversation is None:
            raise DeliveryError("the bot is no longer in that conversation", permanent=True)
        return ConversationReference().deserialize(conversation.reference)


def delivery_error(exc: BaseException) -> DeliveryError:
    """What the Bot Connector's answer means for the deliverer: retry (429, 5xx, unreachable,
    with its Retry-After), or give up (the bot is gone from the conversation)."""
    if isinstance(exc, HttpOperationError):
        status = _status(exc)
        return DeliveryError(f"Bot Connector answered {status}: {exc.message}",
                             retry_after=_retry_after(exc), permanent=status in GONE)
    if isinstance(exc, ClientException | OSError | TimeoutError | aiohttp.ClientError):
        return DeliveryError(f"Bot Connector unreachable: {exc!r}")
    return DeliveryError(f"sending to Teams failed: {exc!r}")


def activity(message: Message) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(message.card), text=message.text)


def _status(exc: HttpOperationError) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if status else None


def _retry_after(exc: HttpOperationError) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return retry_after_seconds(headers.get("Retry-After"))
