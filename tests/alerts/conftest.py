"""Fixtures for the alerting tests: a stand-in Teams Workflows webhook."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer


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
