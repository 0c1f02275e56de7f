"""The Teams bot through its real endpoint: a real OpenTrace server on 127.0.0.1 receives
Teams-shaped activities whose serviceUrl points at the stand-in Bot Connector, which records
what the bot sends back."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from aiohttp import ClientResponse
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.auth import ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.facts import Reply
from bot.teams import question_text
from storage.conversations import Conversation, list_conversations
from tests.bot.conftest import Heard
from tests.bot.connector import ADAPTIVE_CARD, Connector
from tests.conftest import Api, Clock, start_api

BOT_ID, BOT_NAME = "28:9f3c-opentrace", "OpenTrace"
USER = {"id": "29:1sam", "name": "Sam Ops", "aadObjectId": "6a1c0e5e-0000-4000-8000-000000000001"}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = {"id": "19:team-general@thread.tacv2", "name": "Data Platform",
        "aadGroupId": "0b5e3c1a-0000-4000-8000-000000000002"}
CHANNEL = {"id": "19:ops-channel@thread.tacv2", "name": "Ops"}
PERSONAL = "a:1personal-chat-with-sam"
GROUP_CHAT = "19:group-chat@thread.v2"
APP_ID = "3f1e6c1a-7d0b-4a51-9d55-1a2b3c4d5e6f"


@dataclass
class Teams:
    """Sends what Teams sends to a bot, pointing replies at the stand-in connector."""

    api: Api
    connector: Connector

    async def post(self, activity: dict[str, Any], **headers: str) -> ClientResponse:
        return await self.api.client.post("/api/messages", json=activity, headers=headers)

    def activity(self, kind: str, conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "type": kind, "id": f"f:{len(self.connector.calls)}-{kind}", "channelId": "msteams",
            "timestamp": "2026-11-25T06:00:00.000Z", "serviceUrl": self.connector.url,
            "from": USER, "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"tenantId": TENANT, **conversation}, "locale": "en-US",
            "channelData": {"tenant": {"id": TENANT}}, **fields,
        }

    def channel_message(self, text: str, message_id: str = "1732520000001") -> dict[str, Any]:
        mention = {"type": "mention", "text": f"<at>{BOT_NAME}</at>",
                   "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        conversation = {"id": f"{CHANNEL['id']};messageid={message_id}",
                        "conversationType": "channel", "isGroup": True}
        return {**self.activity("message", conversation, text=text, textFormat="plain",
                                entities=[mention, {"type": "clientInfo", "locale": "en-US",
                                                    "country": "DE", "timezone": "Europe/Berlin"}],
                                channelData={"teamsChannelId": CHANNEL["id"], "teamsTeamId": TEAM["id"],
                                             "channel": {"id": CHANNEL["id"]}, "team": {"id": TEAM["id"]},
                                             "tenant": {"id": TENANT}}),
                "id": message_id}

    def personal_message(self, text: str, local_timezone: str | None = None,
                         client_timezone: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text, "textFormat": "plain", "entities": [
            {"type": "clientInfo", "locale": "en-US", "platform": "Web",
             **({"timezone": client_timezone} if client_timezone else {})}]}
        if local_timezone:
            fields.update(localTimezone=local_timezone,
                          localTimestamp="2026-11-25T07:00:00.000+01:00")
        return self.activity("message", {"id": PERSONAL, "conversationType": "personal"}, **fields)

    def team_event(self, kind: str, event: str | None = None, channel: dict[str, Any] | None = None,
                   **fields: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"team": TEAM, "tenant": {"id": TENANT},
                                **({"eventType": event} if event else {}),
                                **({"channel": channel} if channel else {})}
        conversation = {"id": TEAM["id"], "conversationType": "channel", "isGroup": True}
        return self.activity(kind, conversation, channelData=data, **fields)

    def personal_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self.activity(kind, {"id": PERSONAL, "conversationType": "personal"}, **fields)

    def group_event(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self.activity(kind, {"id": GROUP_CHAT, "conversationType": "groupChat",
                                    "isGroup": True}, **fields)


BOT_ADDED = {"membersAdded": [{"id": BOT_ID}]}
BOT_REMOVED = {"membersRemoved": [{"id": BOT_ID}]}


async def start_teams(database_url: str, clock: Clock, connector: Connector,
                      overhear: Callable[[Api], Heard], **settings: Any
                      ) -> AsyncIterator[tuple[Teams, Heard]]:
    api = await start_api(database_url, clock, **settings)
    heard = overhear(api)
    try:
        yield Teams(api, connector), heard
    finally:
        await api.client.close()


@pytest.fixture
async def teams(database_url: str, clock: Clock, connector: Connector,
                overhear: Callable[[Api], Heard]) -> AsyncIterator[tuple[Teams, Heard]]:
    async for pair in start_teams(database_url, clock, connector, overhear):
        yield pair


async def stored(teams: Teams) -> list[Conversation]:
    async with AsyncSession(teams.api.engine) as session:
        return list(await list_conversations(session=session))


async def test_a_channel_question_is_answered_in_its_thread_after_a_typing_indicator(
    teams: tuple[Teams, Heard], connector: Connector
) -> None:
    client, heard = teams
    asked = client.channel_message(f"<at>{BOT_NAME}</at> did the import run today?")

    response = await client.post(asked)

    assert response.status == 201
    assert heard.questions == [("did the import run today?", "Europe/Berlin",
                                f"{CHANNEL['id']};messageid=1732520000001")]
    thread = f"/teams/v3/conversations/{CHANNEL['id']};messageid=1732520000001/activities/1732520000001"
    assert [(c.method, c.path, c.activity["type"]) for c in connector.sent()] == [
        ("POST", thread, "typing"), ("POST", thread, "message")]
    answer = connector.messages()[0]
    assert answer["text"] == heard.replies[0].text
    assert answer["replyToId"] == "1732520000001"
    assert answer["conversation"]["id"] == asked["conversation"]["id"]
    assert (answer["from"]["id"], answer["recipient"]["id"]) == (BOT_ID, USER["id"])
    assert connector.sent()[0].authorization is None  # no app id: no token either way


@pytest.mark.parametrize(("local", "client_info", "expected"), [
    ("America/Chicago", "Europe/Berlin", "America/Chicago"),
    (None, "Asia/Tokyo", "Asia/Tokyo"),
    ("Mars/Olympus_Mons", "Europe/Berlin", "Europe/Berlin"),
    (None, None, None),
])
async def test_a_personal_question_is_answered_in_the_askers_time_zone(
    teams: tuple[Teams, Heard], connector: Connector,
    local: str | None, client_info: str | None, expected: str | None,
) -> None:
    client, heard = teams

    response = await client.post(client.personal_message("has the import finished", local, client_info))

    assert response.status == 201
    assert heard.questions == [("has the import finished", expected, PERSONAL)]
    assert [c.activity["type"] for c in connector.sent()] == ["typing", "message"]
    assert connector.messages()[0]["text"] == heard.replies[0].text


@pytest.mark.parametrize(("typed", "question"), [
    ("<at>OpenTrace</at> did the import run today?", "did the import run today?"),
    ("did the import run today <at>OpenTrace</at>\n", "did the import run today"),
    ("<at>OpenTrace</at>&nbsp;what&#39;s late", "what's late"),
    ("<at>opentrace</at> help", "help"),  # a leftover tag with the bot's name, no entity
    ("<at>OpenTrace</at> did <at>Megan Bowen</at>'s export run", "did Megan Bowen's export run"),
])
def test_the_bots_own_mention_is_not_part_of_the_question(typed: str, question: str) -> None:
    mention = {"type": "mention", "text": "<at>OpenTrace</at>",
               "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
    other = {"type": "mention", "text": "<at>Megan Bowen</at>", "mentioned": {"id": "29:megan"}}
    entities = [] if "opentrace</at>" in typed else [mention, other]
    activity = Activity().deserialize({"type": "message", "text": typed, "entities": entities,
                                       "recipient": {"id": BOT_ID, "name": BOT_NAME}})

    assert question_text(activity) == question


async def test_an_answer_with_a_card_carries_it_as_an_adaptive_card_attachment(
    teams: tuple[Teams, Heard], connector: Connector
) -> None:
    client, heard = teams
    card = {"type": "AdaptiveCard", "version": "1.5",
            "body": [{"type": "TextBlock", "text": "nightly-product-import: failed"}]}

    class WithCard:
        async def reply(self, question: str, **_: Any) -> Reply:
            return Reply("No — it stopped after 'file-read'.", card)

    heard.engine = WithCard()
    await client.post(client.personal_message("did the import run"))

    answer = connector.messages()[0]
    assert answer["text"] == "No — it stopped after 'file-read'."
    assert answer["attachments"] == [{"contentType": ADAPTIVE_CARD, "content": card}]


async def test_when_answering_fails_the_asker_gets_an_apology_and_no_stack_trace(
    teams: tuple[Teams, Heard], connector: Connector
) -> None:
    client, heard = teams

    class Broken:
        async def reply(self, question: str, **_: Any) -> Reply:
            raise RuntimeError("connection to db-secret.internal:5432 refused")

    heard.engine = Broken()
    response = await client.post(client.channel_message("<at>OpenTrace</at> did the import run"))

    assert response.status == 201
    text = connector.messages()[0]["text"]
    assert "help" in text
    assert "db-secret" not in text and "Traceback" not in text and "Error" not in text


async def test_when_the_connector_fails_mid_answer_the_asker_still_gets_an_apology(
    teams: tuple[Teams, Heard], connector: Connector
) -> None:
    client, _ = teams
    connector.failures = 1  # the typing indicator is refused

    response = await client.post(client.personal_message("did the import run"))

    assert response.status == 201
    assert [c.activity["type"] for c in connector.sent()] == ["typing", "message"]
    assert "help" in connector.messages()[0]["text"]
    assert "stand-in failure" not in connector.messages()[0]["text"]


async def test_adding_the_bot_to_a_team_stores_where_to_post_in_that_channel(
    teams: tuple[Teams, Heard], connector: Connector
) -> None:
    client, _ = teams

    response = await client.post(client.team_event("conversationUpdate", "teamMemberAdded",
                                                   **BOT_ADDED))

    assert response.status == 201
    [row] = await stored(client)
    assert (row.conversation_id, row.scope, row.tenant_id, row.team_id, row.team_name,
            row.channel_id, row.service_url) == (
        TEAM["id"], "team", TENANT, TEAM["id"], TEAM["name"], TEAM["id"], connector.url)
    reference = ConversationReference().deserialize(row.reference)
    assert (reference.conversation.id, reference.service_url, reference.bot.id,
            reference.channel_id, reference.activity_id) == (
        TEAM["id"], connector.url, BOT_ID, "msteams", None)
    assert row.reference["conversation"]["tenantId"] == TENANT
    assert connector.sent() == []  # Teams also sends installationUpdate; that one welcomes


async def test_installing_in_a_personal_chat_welcomes_with_help_and_stores_the_chat(
    teams: tuple[Teams, Heard], connector: Connector, clock: Clock
) -> None:
    client, heard = teams

    await client.post(client.personal_event("installationUpdate", action="add"))

    [row] = await stored(client)
    assert (row.conversation_id, row.scope, row.team_id, row.channel_id) == (
        PERSONAL, "personal", None, None)
    [welcome] = connector.messages()
    assert heard.questions[0][0] == "help"
    assert "OpenTrace" in welcome["text"] and heard.replies[0].text in welcome["text"]

    clock.advance(days=3)
    await client.post(client.personal_event("installationUpdate", action="add-upgrade"))

    [upgraded] = await stored(client)
    assert upgraded.installed_at == row.installed_at
    assert upgraded.updated_at == clock.now
    assert len(connector.messages()) == 1  # an upgrade is no reason to say hello again


async def test_adding_the_bot_to_a_group_chat_stores_the_chat(teams: tuple[Teams, Heard]) -> None:
    client, _ = teams

    await client.post(client.group_event("conversationUpdate", **BOT_ADDED))

    [row] = await stored(client)
    assert (row.conversation_id, row.scope, row.tenant_id) == (GROUP_CHAT, "groupChat", TENANT)


@pytest.mark.parametrize("removal", [
    {"type": "installationUpdate", "action": "remove"},
    {"type": "conversationUpdate", **BOT_REMOVED},
])
async def test_removing_the_bot_forgets_the_conversation(
    teams: tuple[Teams, Heard], removal: dict[str, Any]
) -> None:
    client, _ = teams
    await client.post(client.personal_event("installationUpdate", action="add"))
    await client.post(client.group_event("conversationUpdate", **BOT_ADDED))

    kind, fields = removal["type"], {k: v for k, v in removal.items() if k != "type"}
    await client.post(client.personal_event(kind, **fields))

    assert [row.conversation_id for row in await stored(client)] == [GROUP_CHAT]


async def test_a_new_channel_is_remembered_and_removing_the_bot_from_the_team_forgets_all(
    teams: tuple[Teams, Heard]
) -> None:
    client, _ = teams
    await client.post(client.team_event("installationUpdate", action="add"))
    await client.post(client.team_event("conversationUpdate", "channelCreated", channel=CHANNEL))

    rows = {row.conversation_id: row for row in await stored(client)}
    assert set(rows) == {TEAM["id"], CHANNEL["id"]}
    ops = rows[CHANNEL["id"]]
    assert (ops.scope, ops.team_name, ops.channel_id, ops.channel_name) == (
        "team", TEAM["name"], CHANNEL["id"], "Ops")
    assert ops.reference["conversation"]["id"] == CHANNEL["id"]

    await client.post(client.team_event("conversationUpdate", "channelDeleted", channel=CHANNEL))
    assert [row.conversation_id for row in await stored(client)] == [TEAM["id"]]

    await client.post(client.team_event("conversationUpdate", "channelCreated", channel=CHANNEL))
    await client.post(client.team_event("installationUpdate", action="remove"))
    assert await stored(client) == []


async def test_teams_announcing_an_installation_twice_at_once_stores_one_row(
    teams: tuple[Teams, Heard]
) -> None:
    client, _ = teams

    responses = await asyncio.gather(
        client.post(client.team_event("conversationUpdate", "teamMemberAdded", **BOT_ADDED)),
        client.post(client.team_event("installationUpdate", action="add")))

    assert [r.status for r in responses] == [201, 201]
    assert [row.conversation_id for row in await stored(client)] == [TEAM["id"]]


@pytest.fixture
def bot_framework_keys(connector: Connector, monkeypatch: pytest.MonkeyPatch) -> Connector:
    """botbuilder checks channel tokens against the stand-in's published keys."""
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", connector.openid_metadata_url)
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    return connector


@pytest.fixture
async def registered(database_url: str, clock: Clock, bot_framework_keys: Connector,
                     overhear: Callable[[Api], Heard]) -> AsyncIterator[tuple[Teams, Heard]]:
    async for pair in start_teams(database_url, clock, bot_framework_keys, overhear,
                                  microsoft_app_id=APP_ID, microsoft_app_password="not-used"):
        yield pair


async def test_with_an_app_id_a_bot_framework_token_is_accepted(
    registered: tuple[Teams, Heard], connector: Connector
) -> None:
    client, _ = registered
    added = client.team_event("conversationUpdate", "teamMemberAdded", **BOT_ADDED)

    token = connector.token(APP_ID, connector.url)
    response = await client.post(added, Authorization=f"Bearer {token}")

    assert response.status == 201
    assert [row.conversation_id for row in await stored(client)] == [TEAM["id"]]
    assert "/v1/keys" in [c.path for c in connector.calls]  # checked against published keys


def refused_headers(connector: Connector) -> dict[str, dict[str, str]]:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = connector.url
    bearer = {
        "a token signed by someone else": connector.token(APP_ID, url, signed_by=stranger),
        "a key the Bot Framework never published": connector.token(APP_ID, url, kid="k-unknown"),
        "a token for another bot": connector.token("another-app", url),
        "an expired token": connector.token(APP_ID, url, lifetime=-3600),
        "a token for another serviceUrl": connector.token(APP_ID, "https://evil.example/"),
        "a token from another issuer": connector.token(APP_ID, url, issuer="https://evil.example"),
        "a malformed JWT": "eyJhbGciOi.not-base64!.x",
    }
    return {
        "no token": {},
        "an empty Authorization header": {"Authorization": ""},
        "a bare Bearer": {"Authorization": "Bearer"},
        "another scheme": {"Authorization": "Basic c2FtOnNlY3JldA=="},
        "not a JWT": {"Authorization": "Bearer not-a-jwt"},
        **{name: {"Authorization": f"Bearer {token}"} for name, token in bearer.items()},
    }


async def test_with_an_app_id_requests_without_a_valid_token_are_refused_and_change_nothing(
    registered: tuple[Teams, Heard], connector: Connector
) -> None:
    client, heard = registered
    refused = {}

    for name, headers in refused_headers(connector).items():
        for activity in (client.team_event("installationUpdate", action="add"),
                         client.channel_message("<at>OpenTrace</at> help")):
            response = await client.post(activity, **headers)
            refused[name, activity["type"]] = (response.status, (await response.json())["error"] != "")

    assert set(refused.values()) == {(401, True)}
    assert "/v1/keys" in [c.path for c in connector.calls]  # signatures were really checked
    assert await stored(client) == []
    assert connector.sent() == []
    assert heard.questions == []


def unsigned_and_shared_secret_tokens(url: str) -> dict[str, str]:
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url,
              "exp": int(time.time()) + 3600}
    return {"alg none": jwt.encode(claims, None, algorithm="none"),
            "HS256": jwt.encode(claims, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256")}


async def test_tokens_that_cannot_be_bot_framework_tokens_are_refused_before_any_key_fetch(
    database_url: str, clock: Clock, connector: Connector, monkeypatch: pytest.MonkeyPatch,
    overhear: Callable[[Api], Heard],
) -> None:
    # Microsoft's keys cannot be fetched (a closed port), as on a machine without internet.
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", "http://127.0.0.1:9/openid")
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    async for client, heard in start_teams(database_url, clock, connector, overhear,
                                           microsoft_app_id=APP_ID, microsoft_app_password="x"):
        statuses = {}
        for name, token in unsigned_and_shared_secret_tokens(connector.url).items():
            response = await client.post(client.channel_message("<at>OpenTrace</at> help"),
                                         Authorization=f"Bearer {token}")
            statuses[name] = response.status
        signed = connector.token(APP_ID, connector.url)  # could be valid: needs the keys
        cannot_check = await client.post(client.channel_message("help"), Authorization=f"Bearer {signed}")

        assert statuses == {"alg none": 401, "HS256": 401}
        assert cannot_check.status == 503  # a real token is not refused for our outage
        assert heard.questions == [] and connector.sent() == []
