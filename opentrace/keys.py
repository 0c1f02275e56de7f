"""Typed keys for the objects the application shares with its handlers."""

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerting import Alerting
from opentrace.metrics import Metrics
from opentrace.settings import Settings
from storage.tokens import TokenCache
from storage.writer import EventWriter

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
