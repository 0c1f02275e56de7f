"""What the server writes to its log: its own lines, one line per request, and the
scheduler's routine chatter only at DEBUG — as text for people or JSON for log shippers
(`OPENTRACE_LOG_FORMAT=json`)."""

import json
import logging
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ingest.auth import CALLER
from opentrace.proxy import CLIENT

# Loggers whose INFO lines are routine (a job ran, a job was added): shown at DEBUG only.
CHATTY = ("apscheduler", "alembic")
SECRET_PARTS = ("{ping_key}",)  # route patterns whose path holds a token: logged as the pattern


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


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)


class AccessLog(AbstractAccessLogger):
    """`GET /v1/jobs 200 3.1 ms token ops-read from 203.0.113.7` — one line per request, at
    INFO. The client is the peer, or behind a trusted proxy the client it forwarded for."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = _loggable_path(request)
        caller = request.get(CALLER, "-")
        client = request.get(CLIENT) or request.remote or "-"
        millis = round(time * 1000, 1)
        self.logger.info("%s %s %s %.1f ms %s from %s", request.method, path, response.status,
                         millis, caller, client, extra={"fields": {
                             "method": request.method, "path": path, "status": response.status,
                             "duration_ms": millis, "caller": caller, "client": client}})


def _loggable_path(request: web.BaseRequest) -> str:
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    if resource is not None and any(part in resource.canonical for part in SECRET_PARTS):
        return str(resource.canonical)
    return request.path
