"""What the server writes to its log: its own lines, one line per request, and the
scheduler's routine chatter only at DEBUG — as text for people or JSON for log shippers
(`OPENTRACE_LOG_FORMAT=json`)."""

import json
import logging
import time
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ingest.auth import CALLER
from opentrace.proxy import CLIENT

# Loggers whose INFO lines are routine (a job ran, a job was added): shown at DEBUG only.
CHATTY = ("apscheduler", "alembic")
SECRET_PARTS = ("{ping_key}",)
ACCESS_LINE = "%s %s %s %.1f ms %s from %s"  # route patterns whose path holds a token: logged as the pattern


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, logger, message, and any
    extra fields a line was given."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2026-11-25 06:00:01,234 INFO opentrace.access: POST /v1/events …`: the standard
    formatter's line, with the date and time text made once per second instead of per line
    (the access log writes thousands of lines a second under load)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:  # the handler's lock keeps this to one thread at a time
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"  # as `default_msec_format` writes it


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)


class AccessLog(AbstractAccessLogger):
    """`GET /v1/jobs 200 3.1 ms token ops-read from 203.0.113.7` — one line per request, at
    INFO. The client is the peer, or behind a trusted proxy the client it forwarded for.

    The record goes straight to the logger's handlers: `Logger.info` would also walk the stack
    to find the calling line, which no format shows and which cost a fifth of the line."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = _loggable_path(request)
        caller = request.get(CALLER, "-")
        client = request.get(CLIENT) or request.remote or "-"
        millis = round(time * 1000, 1)
        method, status = request.method, response.status
        logger = self.logger
        logger.handle(logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, ACCESS_LINE,
            (method, path, status, millis, caller, client), None, "log", {"fields": {
                "method": method, "path": path, "status": status, "duration_ms": millis,
                "caller": caller, "client": client}}))


def _loggable_path(request: web.BaseRequest) -> str:
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    if resource is not None and any(part in resource.canonical for part in SECRET_PARTS):
        return str(resource.canonical)
    return request.path
