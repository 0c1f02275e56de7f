"""One error hierarchy, one error body: `{"error": "...", "details": [...]}`."""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ingest.context import INGEST
from storage.writer import StorageUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    status = 400

    def __init__(
        self,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="opentrace"'})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class TooLarge(ApiError):
    status = 413


class Invalid(ApiError):
    status = 422


class Unavailable(ApiError):
    status = 503

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def problems(exc: ValidationError) -> list[tuple[list[str | int], str, str]]:
    """Each of pydantic's errors as (location, error type, a message people can read)."""
    return [(list(error["loc"]), error["type"],
             "unknown field" if error["type"] == "extra_forbidden"
             else error["msg"].removeprefix("Value error, "))
            for error in exc.errors(include_url=False)]


def details(exc: ValidationError, what: str = "(body)") -> list[dict[str, Any]]:
    """`details` of a 422 about one document: each field that is wrong, and why."""
    return [{"index": 0, "field": ".".join(str(part) for part in loc) or what, "message": message}
            for loc, _, message in problems(exc)]


def error_response(
    status: int, message: str, details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _answer(request, handler)
    if response.status >= 400:
        request.app[INGEST].observer.rejected(response.status)
    return response


# The database is unreachable or did not answer in time, beyond what SQLAlchemy wraps as a
# DBAPIError: connection refused (asyncpg's connect raises it bare), a connect timeout, no
# pooled connection free within the timeout, a connection found dead.
DATABASE_TROUBLE = (DisconnectionError, PoolTimeout, OSError, TimeoutError)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.details, exc.headers)
    except StorageUnavailable as exc:
        log.warning("database error on %s %s: %s", request.method, _route(request), exc)
        return unavailable(f"storage unavailable: the database did not take the write ({exc}); "
                           "nothing was stored")
    except ConnectionResetError:
        if request.transport is None or request.transport.is_closing():
            raise  # the client went away mid-request: nothing to answer, and not the database
        log.warning("database connection reset on %s %s", request.method, _route(request))
        return unavailable("storage unavailable: the database connection was reset")
    except DBAPIError as exc:  # OperationalError, InterfaceError, a lock timeout, a dropped connection…
        if _refused_value(exc):
            return error_response(422, "a value in the request cannot be stored or searched for", [
                {"index": 0, "field": "(request)", "message": "no NUL characters, lone surrogates or "
                 "out-of-range values"}])
        # exc.orig, not exc: the statement's parameters hold the request's data
        log.warning("database error on %s %s: %r", request.method, _route(request), exc.orig)
        return unavailable("storage unavailable: the database does not answer")
    except DATABASE_TROUBLE as exc:
        log.warning("database error on %s %s: %r", request.method, _route(request), exc)
        return unavailable("storage unavailable: the database does not answer")
    except web.HTTPRequestEntityTooLarge as exc:
        return error_response(413, f"request body too large: {exc.text}")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason, headers=_allow(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, _route(request))
        return error_response(500, "internal error")


def unavailable(message: str) -> web.Response:
    """A 503 the client may retry: nothing was stored."""
    return error_response(503, f"{message}; retry after {RETRY_AFTER_SECONDS} s",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _refused_value(exc: DBAPIError) -> bool:
    """PostgreSQL refused a value of the request (SQLSTATE class 22, data exception: a NUL
    character, a number out of range): the request's fault, and no retry will help."""
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("22")


def _route(request: web.Request) -> str:
    """The route's pattern rather than the path: a ping URL holds its key (a token)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _allow(exc: web.HTTPException) -> dict[str, str] | None:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else None
