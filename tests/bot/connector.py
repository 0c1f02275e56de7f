"""A stand-in for the Bot Framework side of Teams, served on 127.0.0.1.

It answers the Bot Connector REST calls a bot makes (v3 conversations and activities) the way
the real service does, recording each call, and it publishes OpenID metadata with a signing
key of its own, so tests can mint Bot Framework tokens that botbuilder checks for real.

It keeps what is posted in each conversation, as the service does: `PUT .../activities/{id}`
(UpdateActivity) replaces an activity the bot posted there and answers its id, and refuses
one that was never posted there, or that was deleted (DeleteActivity, or a person deleting
the message: `deleted_by_user`), with 404 NotFound."""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"  # the issuer botbuilder expects of channel tokens
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
HANG_SECONDS = 3.0


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # decoded, e.g. /v3/conversations/19:x@thread.tacv2;messageid=1/activities/1
    body: Any
    authorization: str | None

    @property
    def activity(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class Connector:
    calls: list[Call] = field(default_factory=list)
    failures: int = 0  # answer this many of the next Connector calls with a 500
    # How to answer the next Connector calls, one entry each: "429" (Throttled, Retry-After:
    # 2), "503", "reset" (the connection is dropped) or "hang" (no answer for HANG_SECONDS,
    # longer than a test's sender waits).
    script: list[str] = field(default_factory=list)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The people GET …/members/{id} knows, as Teams returns them (TeamsChannelAccount).
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What is in each conversation now: (conversation, activity id) -> the activity as last
    # posted or updated. A channel thread's replies belong to its channel.
    activities: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _server: TestServer | None = None

    @property
    def url(self) -> str:
        """The serviceUrl activities carry, as Teams writes it (with a trailing slash)."""
        assert self._server is not None
        return str(self._server.make_url("/teams/"))

    @property
    def openid_metadata_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/v1/.well-known/openidconfiguration"))

    async def start(self) -> None:
        app = web.Application()
        base = "/teams/v3/conversations"
        app.router.add_post(f"{base}/{{conversation}}/activities", self._send)
        app.router.add_post(f"{base}/{{conversation}}/activities/{{activity}}", self._send)
        app.router.add_put(f"{base}/{{conversation}}/activities/{{activity}}", self._update)
        app.router.add_delete(f"{base}/{{conversation}}/activities/{{activity}}", self._delete)
        app.router.add_post(base, self._create_conversation)
        app.router.add_get(f"{base}/{{conversation}}/members", self._members)
        app.router.add_get(f"{base}/{{conversation}}/members/{{member}}", self._member)
        app.router.add_get("/v1/.well-known/openidconfiguration", self._openid)
        app.router.add_get("/v1/keys", self._keys)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def sent(self) -> list[Call]:
        """Calls to the Bot Connector API (not to the key endpoints), in order."""
        return [c for c in self.calls if c.path.startswith("/teams/v3/")]

    def messages(self) -> list[dict[str, Any]]:
        return [c.activity for c in self.sent() if c.activity.get("type") == "message"]

    def deleted_by_user(self, activity_id: str) -> None:
        """Someone deleted the message in Teams: it can no longer be updated."""
        for key in [key for key in self.activities if key[1] == activity_id]:
            del self.activities[key]

    def current(self, activity_id: str) -> dict[str, Any]:
        """The activity as it reads now, after every update."""
        [activity] = [a for (_, known), a in self.activities.items() if known == activity_id]
        return activity

    def token(self, audience: str, service_url: str, *, lifetime: float = 3600,
              signed_by: rsa.RSAPrivateKey | None = None, kid: str | None = None,
              issuer: str = ISSUER) -> str:
        """A Bot Framework channel token, as the Bot Connector sends one to the bot."""
        now = int(time.time())
        claims = {"iss": issuer, "aud": audience, "serviceurl": service_url,
                  "nbf": now - 60, "iat": now - 60, "exp": int(now + lifetime)}
        return jwt.encode(claims, signed_by or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    async def _record(self, request: web.Request) -> Any:
        body = json.loads(await request.text() or "null")
        self.calls.append(Call(request.method, request.path, body,
                               request.headers.get("Authorization")))
        return body

    def _failing(self) -> web.Response | None:
        if not self.failures:
            return None
        self.failures -= 1
        return web.json_response(
            {"error": {"code": "ServiceError", "message": "stand-in failure"}}, status=500)

    async def _scripted(self, request: web.Request) -> web.Response | None:
        """The next scripted answer, as the real Bot Connector gives it (429 and 503 with
        the error body and Retry-After it sends); None once the script is done."""
        if not self.script:
            return self._failing()
        mode = self.script.pop(0)
        if mode == "429":
            return web.json_response({"error": {"code": "Throttled", "message": "too many requests"}},
                                     status=429, headers={"Retry-After": "2"})
        if mode == "503":
            return web.json_response({"error": {"code": "ServiceUnavailable", "message": "try later"}},
                                     status=503, headers={"Retry-After": "1"})
        if mode == "reset":
            assert request.transport is not None
            request.transport.abort()  # the peer sees the connection reset mid-request
            return web.Response(status=500)
        assert mode == "hang", mode
        await asyncio.sleep(HANG_SECONDS)
        return web.Response(status=504)

    async def _send(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if failure := await self._scripted(request):
            return failure
        if not isinstance(body, dict) or not body.get("type"):
            return web.json_response(
                {"error": {"code": "BadArgument", "message": "Activity must have a type"}},
                status=400)
        activity_id = f"1:{uuid.uuid4().hex}"
        self.activities[(_channel(request.match_info["conversation"]), activity_id)] = \
            {**body, "id": activity_id}
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if failure := await self._scripted(request):
            return failure
        key = (_channel(request.match_info["conversation"]), request.match_info["activity"])
        if key not in self.activities:
            return _not_found("The activity was not found in this conversation")
        self.activities[key] = {**body, "id": key[1]}
        return web.json_response({"id": key[1]})

    async def _delete(self, request: web.Request) -> web.Response:
        await self._record(request)
        if failure := self._failing():
            return failure
        key = (_channel(request.match_info["conversation"]), request.match_info["activity"])
        if self.activities.pop(key, None) is None:
            return _not_found("The activity was not found in this conversation")
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        await self._record(request)
        return self._failing() or web.json_response(
            {"id": f"a:{uuid.uuid4().hex}", "activityId": f"1:{uuid.uuid4().hex}",
             "serviceUrl": self.url}, status=201)

    async def _members(self, request: web.Request) -> web.Response:
        await self._record(request)
        return self._failing() or web.json_response([])

    async def _member(self, request: web.Request) -> web.Response:
        await self._record(request)
        person = self.people.get(request.match_info["member"])
        if person is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
                status=404)
        return self._failing() or web.json_response(person)

    async def _openid(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.method, request.path, None, None))
        return web.json_response({
            "issuer": ISSUER, "jwks_uri": str(request.url.with_path("/v1/keys")),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _keys(self, request: web.Request) -> web.Response:
        self.calls.append(Call(request.method, request.path, None, None))
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams", "webchat"]})
        return web.json_response({"keys": [jwk]})


def _channel(conversation: str) -> str:
    """The conversation an activity lives in: a channel thread ("19:x@thread.tacv2;messageid=1")
    is its channel's."""
    return conversation.split(";", 1)[0]


def _not_found(message: str) -> web.Response:
    return web.json_response({"error": {"code": "NotFound", "message": message}}, status=404)
