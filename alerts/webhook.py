"""Teams Workflows "post to a channel" webhooks: the same card as in Teams, as an attachment."""

import aiohttp

from alerts.delivery import DeliveryError, Message, retry_after_seconds

TIMEOUT_SECONDS = 10
GONE = (400, 401, 403, 404, 410)  # the URL is wrong or revoked: retrying cannot help


class WebhookSender:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def send(self, target: str, message: Message) -> str | None:
        body = {"type": "message", "text": message.text, "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
             "content": message.card}]}
        try:
            async with self._session.post(target, json=body,
                                          timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as response:
                if response.status < 300:
                    return None
                raise DeliveryError(f"webhook answered {response.status}",
                                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                                    permanent=response.status in GONE)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc!r}") from exc
