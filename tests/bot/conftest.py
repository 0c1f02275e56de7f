"""Fixtures for the Teams tests: the stand-in Bot Framework (Bot Connector and token keys)
and a way to hear what reached the answering engine."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from alerts.audience import EVERYONE, Viewer
from bot.endpoint import TEAMS
from bot.facts import Reply
from tests.bot.connector import Connector
from tests.conftest import Api


@pytest.fixture
async def connector() -> AsyncIterator[Connector]:
    stand_in = Connector()
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@dataclass
class Heard:
    """The running bot's engine, with a record of what reached it and what it answered.
    Tests may swap `engine` for a fake one (a card, a failure)."""

    engine: Any
    questions: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    viewers: list[Viewer] = field(default_factory=list)

    async def reply(self, question: str, *, timezone: str | None = None,
                    conversation: str | None = None, viewer: Viewer = EVERYONE) -> Reply:
        self.questions.append((question, timezone, conversation))
        self.viewers.append(viewer)
        self.replies.append(await self.engine.reply(
            question, timezone=timezone, conversation=conversation, viewer=viewer))
        return self.replies[-1]


@pytest.fixture
def overhear() -> Callable[[Api], Heard]:
    """Put a `Heard` between a started server's bot and its engine."""
    def wrap(api: Api) -> Heard:
        bot = api.client.server.app[TEAMS].bot  # type: ignore[union-attr]
        heard = Heard(bot.answerer)
        bot.answerer = heard
        return heard
    return wrap
