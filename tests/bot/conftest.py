"""Fixtures for the Teams tests: the stand-in Bot Framework (Bot Connector and token keys)
and a way to hear what reached the answering engine."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.facts import Reply
from opentrace.keys import BOT
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

    async def reply(self, question: str, *, timezone: str | None = None,
                    conversation: str | None = None) -> Reply:
        self.questions.append((question, timezone, conversation))
        self.replies.append(await self.engine.reply(
            question, timezone=timezone, conversation=conversation))
        return self.replies[-1]


@pytest.fixture
def overhear() -> Callable[[Api], Heard]:
    """Put a `Heard` between a started server's bot and its engine."""
    def wrap(api: Api) -> Heard:
        bot = api.client.server.app[BOT]  # type: ignore[union-attr]
        heard = Heard(bot.answerer)
        bot.answerer = heard
        return heard
    return wrap


@dataclass
class Webhook:
    """A stand-in for a Teams Workflows webhook: answers from a script, records every post."""

    script: list[int] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append(await request.json())
        self.arrived.set()
        status = self.script.pop(0) if self.script else 202
        headers = {"Retry-After": "120"} if status == 429 else {}
        return web.Response(status=status, headers=headers)


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/workflows/sales", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hook.url = str(server.make_url("/workflows/sales"))
    yield hook
    await server.close()
