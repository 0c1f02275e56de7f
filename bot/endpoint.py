"""`POST /api/messages`: Bot Framework activities in, through botbuilder's CloudAdapter.

The handler authenticates itself instead of calling `CloudAdapter.process`, because of what
botbuilder 4.17.1 does there: a malformed Authorization header raises (a 500, not a 401); the
token check fetches Microsoft's signing keys with blocking `requests` calls without a timeout,
which would stall every request the server is handling; and a failure to get an *outgoing*
token surfaces as a PermissionError that `process` answers with a 401 to the caller.

Outgoing calls go to each activity's `serviceUrl` (botbuilder builds a connector per turn).
With no app id configured, requests are accepted without a token and replies are sent
without one: local development, the tests and the Agents Playground."""

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import Answerer
from bot.teams import APOLOGY, OpenTraceBot
from storage.clock import Clock

log = logging.getLogger(__name__)
AUTH_TIMEOUT_SECONDS = 10.0
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512")  # what botbuilder's token check accepts
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Credentials:
    """The bot's Azure registration; no app id means no authentication (local use)."""

    app_id: str = ""
    password: str = ""
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    # Entra tenants (lowercase) whose activities are served; empty: any.
    allowed_tenants: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BotConfig:
    """The attributes botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TENANTID: str
    APP_TYPE: str


@dataclass(frozen=True)
class Teams:
    """The bot as the app holds it: botbuilder's adapter (untyped) and the activity handler."""

    credentials: Credentials
    adapter: Any
    bot: OpenTraceBot


TEAMS = web.AppKey("teams", Teams)


def bot_config(credentials: Credentials) -> BotConfig:
    if not credentials.app_id:
        # Authentication off. (botbuilder refuses SingleTenant or MSI without an app id.)
        return BotConfig("", "", "", "MultiTenant")
    return BotConfig(credentials.app_id, credentials.password, credentials.tenant_id,
                     credentials.app_type)


def teams_bot(credentials: Credentials, answerer: Answerer, engine: AsyncEngine, *, clock: Clock,
              default_timezone: str) -> Teams:
    """The adapter and the bot; the app factory mounts `messages` at /api/messages."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(bot_config(credentials)))
    adapter.on_turn_error = turn_error
    bot = OpenTraceBot(answerer, engine, clock=clock, default_timezone=default_timezone)
    return Teams(credentials, adapter, bot)


async def messages(request: web.Request) -> web.Response:
    teams = request.app[TEAMS]
    app_id = teams.credentials.app_id
    header = request.headers.get("Authorization", "") if app_id else ""
    if app_id and not _looks_like_bearer_jwt(header):
        return _refused("a Bot Framework token is required")
    activity = await _read_activity(request)
    if isinstance(activity, web.Response):
        return activity
    adapter = teams.adapter
    try:
        authenticated = await _authenticate(adapter.bot_framework_authentication, activity, header)
    except (requests.RequestException, TimeoutError) as exc:
        log.warning("cannot check a Bot Framework token now: %r", exc)
        return _error(503, "cannot check the Bot Framework token now; retry shortly",
                      {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except Exception as exc:
        log.warning("refused a bot request: %r", exc)
        return _refused("the Bot Framework token is not valid for this bot")
    allowed = teams.credentials.allowed_tenants
    if allowed and activity_tenant(activity) not in allowed:
        # Refused before the bot sees it: no conversation, question or subscription is stored.
        log.warning("refused a %s activity from tenant %r", activity.type, activity_tenant(activity))
        return _error(403, "this OpenTrace bot does not serve your organisation (tenant)")
    invoke = await adapter.process_activity(authenticated, activity, teams.bot.on_turn)
    if invoke is None:
        return web.Response(status=201)
    body = invoke.body.serialize() if hasattr(invoke.body, "serialize") else invoke.body
    return web.json_response(body, status=invoke.status)


async def _read_activity(request: web.Request) -> Activity | web.Response:
    if request.content_type != "application/json":
        return _error(415, "send the activity as application/json")
    try:
        body = await request.json()
        activity = Activity().deserialize(body) if isinstance(body, dict) else None
    except Exception:
        return _error(400, "the body is not a Bot Framework activity")
    if activity is None or not activity.type or not activity.service_url:
        return _error(400, "an activity needs at least a type and a serviceUrl")
    return activity


async def _authenticate(authentication: Any, activity: Activity, header: str) -> Any:
    if not header:  # no I/O on this path: botbuilder only checks that auth is off
        return await authentication.authenticate_request(activity, "")
    # botbuilder's token check makes blocking HTTP calls: give it a thread and its own loop.
    check = asyncio.to_thread(asyncio.run, authentication.authenticate_request(activity, header))
    return await asyncio.wait_for(check, AUTH_TIMEOUT_SECONDS)


def activity_tenant(activity: Activity) -> str | None:
    """The Entra tenant an activity comes from: Teams puts it in channelData.tenant.id and in
    conversation.tenantId."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id") if isinstance(data.get("tenant"), dict) else None
    tenant = tenant or (activity.conversation.tenant_id if activity.conversation else None)
    return tenant.lower() if isinstance(tenant, str) and tenant else None


def _looks_like_bearer_jwt(header: str) -> bool:
    """A Bearer JWT that could be a Bot Framework token: signed with RSA, as the Bot Framework
    always signs. `alg: none` or an HMAC token can never be valid, so they are refused here,
    before botbuilder fetches signing keys (which, offline, would turn them into a 503)."""
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or token.count(".") != 2 or " " in token:
        return False
    encoded = token.split(".", 1)[0]
    try:
        jose = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(jose, dict) and jose.get("alg") in SIGNING_ALGORITHMS


async def turn_error(context: TurnContext, error: Exception) -> None:
    """Whatever failed is logged; someone who asked something gets an apology, not a trace."""
    log.error("bot turn for a %s activity failed", context.activity.type, exc_info=error)
    if context.activity.type == ActivityTypes.message:
        try:
            await context.send_activity(APOLOGY)
        except Exception as exc:
            log.warning("could not send the apology either: %r", exc)


def _refused(message: str) -> web.Response:
    return _error(401, message, {"WWW-Authenticate": "Bearer"})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """The app's error shape (`ingest.errors`), without importing ingest into the bot."""
    return web.json_response({"error": message}, status=status, headers=headers)
