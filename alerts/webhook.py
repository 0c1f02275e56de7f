"""Teams Workflows "post to a channel" webhooks: the same card as in Teams, as an attachment.

A webhook cannot update what it posted, so each new fact of an incident is a follow-up post
of the whole card; every post carries the incident under "opentrace" (its id, job, run, state
and alerts), so a receiver can correlate the follow-ups, and the card names the incident."""

import aiohttp

from alerts.delivery import DeliveryError, Message, retry_after_seconds

TIMEOUT_SECONDS = 10
GONE = (400, 401, 403, 404, 410)  # the URL is wrong or revoked: retrying cannot help


class WebhookSender:
    """`alerts.delivery.Sender` for webhook URLs."""

    def __init__(self, session: aiohttp.ClientSession, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._session = session
        self._timeout = timeout

    async def send(self, target: str, message: Message, *, replace: str | None = None) -> str | None:
        """Each message is a new post (`replace` cannot be honoured); it gives no id."""
        body: dict[str, object] = {"type": "message", "text": message.text, "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
             "content": message.card}]}
        if message.incident:
            body["opentrace"] = {"incident": message.incident}
        try:
            async with self._session.post(target, json=body,
                                          timeout=aiohttp.ClientTimeout(total=self._timeout)) as response:
                if response.status < 300:
                    return None
                raise DeliveryError(f"webhook answered {response.status}",
                                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                                    permanent=response.status in GONE)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc!r}") from exc
