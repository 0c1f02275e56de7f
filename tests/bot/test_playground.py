"""End to end with a Teams client nobody here wrote: Microsoft 365 Agents Playground
(npm @microsoft/m365agentsplayground), run headless. It plays Teams and the Bot Connector: it
sends the bot real Teams-shaped activities and shows what the bot posts back on its websocket.

Its HTTP API (read from the package's dist/index.js): GET /_internal/v1/config (the mock team,
channels, users and bot), POST /_debug/conversation/{id}/installation (installationUpdate and
conversationUpdate to the bot), POST /_conversation/v1/conversations/{id}/messages (a user's
message, mentions allowed), POST /_conversation/v1/submit (what its UI sends when an Action.Submit
is pressed), and the websocket /_ws_conversation/v1/conversations/stream, which pushes
{"action": "typing" | "createMessage", "actionConversationId", "message"}. It shows a reply
with a card as two messages: the text, then the card alone (its messageId is the text's with a
suffix)."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.conversations import get_conversation
from tests.bot.conftest import Heard
from tests.bot.connector import ADAPTIVE_CARD
from tests.bot.story import NOW, tell_the_story
from tests.bot.test_cards import validate_cards
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
async def playground(bot_endpoint: str, *, timezone: str | None = None) -> AsyncIterator[str]:
    """The running Playground's base URL; the process is killed on the way out. `timezone`
    (IANA) is the users' zone: it sends the zone of its own process (dayjs.tz.guess()) as the
    activities' localTimezone, so it is set through TZ; by default the host's."""
    env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none"} | ({"TZ": timezone} if timezone else {})
    process = await asyncio.create_subprocess_exec(
        str(playground_or_skip()), "-e", bot_endpoint, "-c", "msteams", "--disable-telemetry",
        "-p", str(free_port()), env=env, cwd=NODE_TOOLS,
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


def card_in(conversation: str) -> Callable[[dict[str, Any]], bool]:
    return lambda push: (push["action"], push["actionConversationId"]) == (
        "createMessage", conversation) and bool(push["message"].get("attachments"))


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


async def test_in_the_agents_playground_a_user_presses_a_did_you_mean_button_and_gets_that_reading(
    tmp_path: Path, clock: Clock, overhear: Callable[[Api], Heard]
) -> None:
    """A user in the Playground's personal chat asks which SharePoint folder the import goes to;
    the bot is not sure, and its reply reaches the Playground's websocket as an Adaptive Card of
    "did you mean" buttons. The user presses the first one and gets that reading answered.

    How the press is sent: through the Playground's own card-action route, POST
    /_conversation/v1/submit, which its UI calls for every Action.Submit. It (version 0.2.28)
    ignores "msteams" and sends the bot a message with no text and the button's whole `data` as
    `value` — where Teams would post the imBack value as the text — so this also shows that the
    bot reads the question from such a value (as Web Chat sends it too)."""
    playground_or_skip()
    clock.now = NOW - timedelta(days=8)
    api = await start_api(f"sqlite:///{tmp_path / 'opentrace.db'}", clock)
    heard = overhear(api)
    question = "which sharepoint folder does the import go to"
    try:
        await tell_the_story(api)
        clock.now = NOW
        # The story's "now" is 08:00 in Berlin: a user there asks about "today".
        async with playground(str(api.client.make_url("/api/messages")),
                              timezone="Europe/Berlin") as base, \
                aiohttp.ClientSession(base) as http:
            async with http.get("/_internal/v1/config",
                                timeout=aiohttp.ClientTimeout(total=START_SECONDS)) as response:
                config = (await response.json())["config"]
            chat, me = config["personalChat"]["id"], config["currentUser"]
            async with http.ws_connect("/_ws_conversation/v1/conversations/stream") as ws:
                async with http.post(f"/_conversation/v1/conversations/{chat}/messages", json={
                        "from": {"id": me["id"]}, "text": question, "textFormat": "plain"}) as r:
                    assert r.status == 200
                unsure = await pushed_until(ws, card_in(chat))
                card = unsure[-1]["message"]["attachments"][0]
                pressed = card["content"]["actions"][0]["data"]["msteams"]["value"]

                async with http.post("/_conversation/v1/submit", json={
                        "conversation": {"id": chat}, "from": {"id": me["id"]},
                        "replyToId": unsure[-1]["message"]["messageId"],
                        "value": card["content"]["actions"][0]["data"]}) as r:
                    assert r.status == 200, await r.text()
                answer = await pushed_until(ws, text_in(chat))
    finally:
        await api.client.close()

    said = [p["message"]["text"] for p in unsure if text_in(chat)(p)]
    assert said == [heard.replies[0].text]
    assert said[0].startswith("I'm not sure what ") and "means for Nightly product import." in said[0]
    assert said[0].endswith("Did you mean one of these?")
    assert card["contentType"] == ADAPTIVE_CARD
    assert card["content"] == heard.replies[0].card  # it reached the Playground as sent
    actions = card["content"]["actions"]
    assert [a["type"] for a in actions] == ["Action.Submit"] * 3
    assert [a["data"]["msteams"] for a in actions] == [
        {"type": "imBack", "value": a["title"]} for a in actions]  # the button says what it asks
    assert [a["title"] for a in actions] == [
        "did the Nightly product import run?", "what happened to the Nightly product import?",
        "what did the Nightly product import produce?"]
    assert validate_cards({"did you mean": card["content"]}) == {"did you mean": []}

    assert heard.questions == [(question, "Europe/Berlin", chat), (pressed, "Europe/Berlin", chat)]
    assert [p["action"] for p in answer] == ["typing", "createMessage"]
    reading = answer[-1]["message"]["text"]
    assert reading == heard.replies[1].text
    assert not reading.startswith("I'm not sure"), reading  # an answer, not another "did you mean"
    assert reading.startswith("No — today's Nightly product import"), reading
