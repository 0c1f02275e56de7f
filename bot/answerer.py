"""The question-answering engine: plain Python, no Teams. Same engine for the bot and
`opentrace ask`. (Being written: this first version only answers with help.)"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.facts import Reply

Clock = Callable[[], datetime]


class Answerer:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, default_timezone: str = "UTC") -> None:
        self._engine = engine
        self._clock = clock
        self._default_timezone = default_timezone

    async def reply(self, question: str, *, timezone: str | None = None) -> Reply:
        """Answer one question. `timezone` is the asker's IANA zone when known (Teams sends it);
        never raises for anything a user can type."""
        return Reply(text="I answer questions about your batch jobs, e.g. 'did the import run today?'")
