"""End to end with a Teams client nobody here wrote: Microsoft 365 Agents Playground
(npm @microsoft/m365agentsplayground), run headless. It plays Teams and the Bot Connector: it
sends the bot real Teams-shaped activities and shows what the bot posts back on its websocket.

Its HTTP API (read from the package's dist/index.js): GET /_internal/v1/config (the mock team,
channels, users and bot), POST /_debug/conversation/{id}/installation (installationUpdate and
conversationUpdate to the bot), POST /_conversation/v1/conversations/{id}/messages (a user's
message, mentions allowed), and the websocket /_ws_conversation/v1/conversations/stream, which
pushes {"action": "typing" | "createMessage", "actionConversationId", "message"}."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.conversations import get_conversation
from tests.bot.conftest import Heard
from tests.conftest import Api, Clock, start_api
from tests.serving import free_port

NODE_TOOLS = Path(__file__).parents[1] / "node"
PLAYGROUND = NODE_TOOLS / "node_modules" / ".bin" / "agentsplayground"
WAIT_SECONDS = 5.0
START_SECONDS = 20.0  # node loads a 5 MB bundle before it listens


def playground_or_skip() -> Path:
    missing = None if shutil.which("node") else "node is not installed"
    if missing is None and not PLAYGROUND.exists():
        missing = f"{PLAYGROUND} is missing (npm ci --prefix tests/node)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Agents Playground test must run under CI=true: {missing}")
        pytest.skip(missing)
    return PLAYGROUND


@contextlib.asynccontextmanager
async def playground(bot_endpoint: str) -> AsyncIterator[str]:
    """The running Playground's base URL; the process is killed on the way out."""
    process = await asyncio.create_subprocess_exec(
        str(playground_or_skip()), "-e", bot_endpoint, "-c", "msteams", "--disable-telemetry",
        "-p", str(free_port()),
        env={**os.environ, "TEAMSAPPTESTER_BROWSER": "none"}, cwd=NODE_TOOLS,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        port = await asyncio.wait_for(_listening_port(process), START_SECONDS)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), WAIT_SECONDS)


async def _listening_port(process: asyncio.subprocess.Process) -> int:
    """The port it really took: it falls back to a random one when ours is taken."""
    assert process.stdout is not None
    seen = []
    while line := (await process.stdout.readline()).decode(errors="replace"):
        seen.append(line)
        if match := re.search(r"Listening on (\d+)", line):
            return int(match.group(1))
    raise RuntimeError(f"the Playground exited: {''.join(seen)}")


async def pushed_until(ws: aiohttp.ClientWebSocketResponse, last: Callable[[dict[str, Any]], bool]
                       ) -> list[dict[str, Any]]:
    """Pushes of the conversation stream up to the one `last` accepts, each within WAIT_SECONDS."""
    seen: list[dict[str, Any]] = []
    while not seen or not last(seen[-1]):
        seen.append(await ws.receive_json(timeout=WAIT_SECONDS))
    return seen


def text_in(conversation: str) -> Callable[[dict[str, Any]], bool]:
    return lambda push: (push["action"], push["actionConversationId"]) == (
        "createMessage", conversation) and bool(push["message"].get("text"))


async def test_in_the_agents_playground_a_team_installs_the_bot_and_gets_answers_in_its_thread(
    tmp_path: Path, clock: Clock, overhear: Callable[[Api], Heard]
) -> None:
    playground_or_skip()
    api = await start_api(f"sqlite:///{tmp_path / 'opentrace.db'}", clock)
    heard = overhear(api)
    try:
        async with playground(str(api.client.make_url("/api/messages"))) as base, \
                aiohttp.ClientSession(base) as http:
            # It probes the bot's endpoint before it answers.
            async with http.get("/_internal/v1/config",
                                timeout=aiohttp.ClientTimeout(total=START_SECONDS)) as response:
                config = (await response.json())["config"]
            team, me, teams_bot = config["teams"][0], config["currentUser"], config["bot"]
            async with http.ws_connect("/_ws_conversation/v1/conversations/stream") as ws:
                async with http.post(f"/_debug/conversation/{team['id']}/installation", json={}) as r:
                    assert r.status == 200
                welcome = await pushed_until(ws, text_in(team["id"]))

                at_bot = f"<at>{teams_bot['name']}</at>"
                async with http.post(f"/_conversation/v1/conversations/{team['id']}/messages", json={
                    "from": {"id": me["id"]}, "text": f"{at_bot} what jobs do you know",
                    "textFormat": "plain",
                    "mentions": [{"mentioned": {"id": teams_bot["id"]}, "text": at_bot}],
                }) as r:
                    assert r.status == 200
                    thread = (await r.json())["postConversationId"]
                answer = await pushed_until(ws, text_in(thread))
        async with AsyncSession(api.engine) as session:
            installed = await get_conversation(team["id"], session=session)
    finally:
        await api.client.close()

    assert heard.questions[0][0] == "help"  # the welcome shows what to ask
    assert welcome[-1]["message"]["text"].startswith("Hi, I'm OpenTrace")
    assert heard.questions[-1][0] == "what jobs do you know"  # the @mention is not in it
    # The Playground shows a card as a message of its own, so the welcome's may come late.
    assert [p["action"] for p in answer if p["actionConversationId"] == thread] == [
        "typing", "createMessage"]
    assert answer[-1]["message"]["text"] == heard.replies[-1].text
    assert installed is not None
    assert (installed.scope, installed.team_name, installed.tenant_id) == (
        "team", team["name"], config["tenantId"])
