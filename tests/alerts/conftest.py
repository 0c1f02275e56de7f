"""Fixtures for the alerting tests: a stand-in Teams Workflows webhook."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

HANG_SECONDS = 3.0


@dataclass
class Webhook:
    """A stand-in for a Teams Workflows webhook: answers from a script, records every post."""

    # The next answers: a status, "reset" (the connection is dropped) or "hang" (no answer
    # for HANG_SECONDS); 202 once the script is done.
    script: list[int | str] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append(await request.json())
        self.arrived.set()
        status = self.script.pop(0) if self.script else 202
        if status == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        if status == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return web.Response(status=504)
        assert isinstance(status, int)
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
