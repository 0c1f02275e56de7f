"""Query-string parameters of the read endpoints: a bad value is a 422 naming it."""

from datetime import datetime

from aiohttp import web

from ingest.errors import Invalid
from ingest.timestamps import parse_rfc3339


def time_param(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise Invalid(f"invalid query parameter {name}", [
            {"index": 0, "field": name, "message": str(exc)}]) from None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query.get(name, str(default))
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise Invalid(f"invalid query parameter {name}", [
            {"index": 0, "field": name, "message": f"must be an integer {low}..{high}"}])
    return number


def text_param(request: web.Request, name: str, max_length: int = 200) -> str | None:
    value = request.query.get(name) or None
    if value is not None and len(value) > max_length:
        raise Invalid(f"invalid query parameter {name}", [
            {"index": 0, "field": name, "message": f"must be at most {max_length} characters"}])
    return value
