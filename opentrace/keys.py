"""Typed keys for what the app factory itself shares: settings, metrics, the answering
engine and the alerting service. Each package keeps its own (`ingest.context.INGEST`,
`bot.endpoint.TEAMS`)."""

from aiohttp import web

from alerts.service import Alerting
from bot.engine import Answerer
from opentrace.metrics import Metrics
from opentrace.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
ANSWERER = web.AppKey("answerer", Answerer)
ALERTING = web.AppKey("alerting", Alerting)
