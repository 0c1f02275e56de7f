"""The application factory: one aiohttp app with its shared objects and their lifetimes.

This is the one place that knows every package: it builds the storage objects, hands ingest
its context, mounts the Teams bot, and wires alerting to the bot's sender and cards."""

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import Deliverer, Sender
from alerts.leadership import Leadership
from alerts.service import Alerting
from alerts.watcher import Watcher
from alerts.webhook import WebhookSender
from bot.alert_messages import AlertComposer
from bot.endpoint import TEAMS, Credentials, messages, teams_bot
from bot.engine import Answerer
from bot.teams_sender import TeamsSender
from ingest.context import INGEST, Ingest
from ingest.errors import Unavailable, error_middleware
from ingest.routes import ROUTES
from ingest.schemas import MAX_BODY_BYTES
from opentrace import pages
from opentrace.job_files import definition_problems, definition_warnings
from opentrace.keys import ALERTING, ANSWERER, METRICS, SETTINGS
from opentrace.metrics import Metrics
from opentrace.proxy import FORWARDING, Forwarding, forwarded
from opentrace.settings import Settings
from storage import queries
from storage.clock import Clock, utc_now
from storage.engine import create_engine, migrate
from storage.tokens import TokenCache, first_admin_token
from storage.writer import EventWriter

log = logging.getLogger(__name__)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
JUDGE_PENDING_AFTER_SECONDS = 60.0


def create_app(settings: Settings, *, clock: Clock = utc_now) -> web.Application:
    forwarding = Forwarding(settings.trusted_proxies, settings.public_url.rstrip("/"))
    # Outermost, so that every handler and error answer sees the request as its client made it.
    middlewares = [forwarded, error_middleware] if forwarding.needed else [error_middleware]
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=middlewares)
    app[SETTINGS] = settings
    app[FORWARDING] = forwarding
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(answering)
    app.cleanup_ctx.append(teams)
    app.cleanup_ctx.append(alerting)
    app.add_routes(ROUTES)
    app.router.add_post("/api/messages", messages, name="bot-messages")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    app.router.add_get("/privacy", pages.privacy, name="privacy")
    app.router.add_get("/terms", pages.terms, name="terms")
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    """Engine, schema, first token and the event writer, for the app's whole life."""
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url, timeout_seconds=settings.db_timeout_seconds)
    await migrate(engine)
    if settings.auth:
        async with AsyncSession(engine) as session:
            token = await first_admin_token(app[CLOCK](), session=session)
        if token:
            announce_first_token(token)
    writer = EventWriter(engine)
    writer.start()
    app[INGEST] = Ingest(
        engine=engine, writer=writer, clock=app[CLOCK], auth=settings.auth,
        tokens=TokenCache(engine, app[CLOCK], settings.token_cache_seconds),
        observer=app[METRICS], schedule_problems=definition_problems,
        definition_warnings=definition_warnings)
    yield
    await writer.close()
    await engine.dispose()


def announce_first_token(token: str) -> None:
    print(
        "\nNo API token existed, so an admin token was created. It is shown only this once:\n\n"
        f"    {token}\n\n"
        "Use it as 'Authorization: Bearer <token>'; make narrower ones with\n"
        "'opentrace token create NAME --scope ingest|read|admin'.\n",
        file=sys.stdout,
        flush=True,
    )


async def answering(app: web.Application) -> AsyncIterator[None]:
    """The question-answering engine the Teams bot uses, on the app's database and clock."""
    app[ANSWERER] = Answerer(app[INGEST].engine, clock=app[CLOCK],
                             default_timezone=app[SETTINGS].timezone)
    pending = asyncio.create_task(judge_pending_later(app[ANSWERER]))
    yield
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending


async def judge_pending_later(answerer: Answerer) -> None:
    """After an upgrade, or on a database restored from elsewhere, judge the finished runs no
    replica has judged yet — in the background, once the server has settled — so that the
    first count or overview question does not have to."""
    await asyncio.sleep(JUDGE_PENDING_AFTER_SECONDS)
    try:
        judged = await answerer.judge_pending()
    except Exception:
        log.exception("judging pending runs failed; questions judge them as they need them")
        return
    if judged:
        log.info("judged %d finished runs for faster answers", judged)


async def teams(app: web.Application) -> AsyncIterator[None]:
    """The Teams bot behind /api/messages: botbuilder's adapter and the activity handler."""
    settings = app[SETTINGS]
    credentials = Credentials(settings.microsoft_app_id, settings.microsoft_app_password,
                              settings.microsoft_app_tenant_id, settings.microsoft_app_type,
                              settings.accepted_tenants)
    app[TEAMS] = teams_bot(credentials, app[ANSWERER], app[INGEST].engine, clock=app[CLOCK],
                           default_timezone=settings.timezone)
    yield


async def alerting(app: web.Application) -> AsyncIterator[None]:
    """The watcher and the deliverer, on APScheduler, for the app's whole life."""
    settings = app[SETTINGS]
    if not settings.watch:
        yield
        return
    async with aiohttp.ClientSession() as http:
        engine, clock, observer = app[INGEST].engine, app[CLOCK], app[METRICS]
        watcher = Watcher(engine, clock=clock, default_timezone=settings.timezone,
                          observer=observer)
        senders: dict[str, Sender] = {
            "webhook": WebhookSender(http),
            "teams": TeamsSender(app[TEAMS].adapter, engine, settings.microsoft_app_id)}
        deliverer = Deliverer(engine, clock=clock, senders=senders,
                              compose=AlertComposer(settings.timezone), observer=observer)
        service = Alerting(watcher, deliverer, Leadership(engine), clock=clock, observer=observer,
                           engine=engine, retention_days=settings.retention_days)
        app[ALERTING] = service
        app[INGEST].writer.listeners.append(service.runs_committed)
        app[INGEST].on_job_change.append(service.poke)
        service.start()
        yield
        await service.stop()


async def healthz(request: web.Request) -> web.Response:
    try:
        async with AsyncSession(request.app[INGEST].engine) as session:
            await queries.ping(session=session)
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        raise Unavailable("database does not answer") from None
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; unauthenticated like /healthz, so scrapers need no token."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
