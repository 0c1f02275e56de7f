"""The application factory: one aiohttp app with its shared objects and their lifetimes."""

import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.alerting import Alerting
from bot.answerer import Answerer
from bot.delivery import Deliverer, Sender, WebhookSender
from bot.endpoint import setup_bot
from bot.leader import Leadership
from bot.teams_delivery import TeamsSender
from bot.watcher import Watcher
from ingest.errors import Unavailable, error_middleware
from ingest.routes import ROUTES
from ingest.schemas import MAX_BODY_BYTES
from opentrace.keys import (
    ALERTING,
    ANSWERER,
    BOT_ADAPTER,
    CLOCK,
    ENGINE,
    METRICS,
    ON_JOB_CHANGE,
    SETTINGS,
    TOKENS,
    WRITER,
    Clock,
)
from opentrace.metrics import Metrics
from opentrace.settings import Settings
from storage import queries
from storage.engine import create_engine, migrate
from storage.tokens import TokenCache, first_admin_token
from storage.writer import EventWriter

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings, *, clock: Clock = utc_now) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_middleware])
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(answering)
    setup_bot(app)
    app.cleanup_ctx.append(alerting)
    app.add_routes(ROUTES)
    app[METRICS] = Metrics()
    app[ON_JOB_CHANGE] = []
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    """Engine, schema, first token and the event writer, for the app's whole life."""
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url, timeout_seconds=settings.db_timeout_seconds)
    await migrate(engine)
    if settings.auth:
        async with AsyncSession(engine) as session:
            token = await first_admin_token(session, app[CLOCK]())
        if token:
            announce_first_token(token)
    writer = EventWriter(engine)
    writer.start()
    app[ENGINE] = engine
    app[WRITER] = writer
    app[TOKENS] = TokenCache(engine, app[CLOCK], settings.token_cache_seconds)
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


async def alerting(app: web.Application) -> AsyncIterator[None]:
    """The watcher and the deliverer, on APScheduler, for the app's whole life."""
    settings = app[SETTINGS]
    if not settings.watch:
        yield
        return
    async with aiohttp.ClientSession() as http:
        engine, clock = app[ENGINE], app[CLOCK]
        metrics = app[METRICS]
        watcher = Watcher(engine, clock=clock, default_timezone=settings.timezone,
                          observer=metrics)
        senders: dict[str, Sender] = {
            "webhook": WebhookSender(http),
            "teams": TeamsSender(app[BOT_ADAPTER], engine, settings.microsoft_app_id)}
        deliverer = Deliverer(engine, clock=clock, senders=senders,
                              default_timezone=settings.timezone, observer=metrics)
        service = Alerting(watcher, deliverer, Leadership(engine), clock=clock, observer=metrics)
        app[ALERTING] = service
        app[WRITER].listeners.append(service.runs_committed)
        app[ON_JOB_CHANGE].append(service.poke)
        service.start()
        yield
        await service.stop()


async def answering(app: web.Application) -> AsyncIterator[None]:
    """The question-answering engine the Teams bot uses, on the app's database and clock."""
    app[ANSWERER] = Answerer(app[ENGINE], clock=app[CLOCK], default_timezone=app[SETTINGS].timezone)
    yield


async def healthz(request: web.Request) -> web.Response:
    try:
        async with AsyncSession(request.app[ENGINE]) as session:
            await queries.ping(session=session)
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        raise Unavailable("database does not answer") from None
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; unauthenticated like /healthz, so scrapers need no token."""
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
