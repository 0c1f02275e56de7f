"""Typed keys for the objects the application shares with its handlers."""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerting import Alerting
from bot.answerer import Answerer
from opentrace.metrics import Metrics
from opentrace.settings import Settings
from storage.tokens import TokenCache
from storage.writer import EventWriter

if TYPE_CHECKING:  # botbuilder takes most of a second to import; only the server needs it
    from bot.teams import OpenTraceBot

Clock = Callable[[], datetime]

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
ENGINE = web.AppKey("engine", AsyncEngine)
WRITER = web.AppKey("writer", EventWriter)
TOKENS = web.AppKey("tokens", TokenCache)
METRICS = web.AppKey("metrics", Metrics)
# Called after a job definition changes, so the watcher plans its deadlines again.
ALERTING = web.AppKey("alerting", Alerting)
ON_JOB_CHANGE: web.AppKey[list[Callable[[], None]]] = web.AppKey("on_job_change")
# The Teams bot: the engine it answers with, the activity handler, botbuilder's CloudAdapter.
ANSWERER = web.AppKey("answerer", Answerer)
BOT: "web.AppKey[OpenTraceBot]" = web.AppKey("bot")
BOT_ADAPTER: web.AppKey[Any] = web.AppKey("bot_adapter")  # untyped botbuilder CloudAdapter
