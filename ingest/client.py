"""OpenTrace client: tell OpenTrace what a batch job is doing, without ever breaking the job.

    import opentrace

    with opentrace.run("nightly-import") as r:
        r.milestone("file-read")
        r.metric("rows_skipped", 40, unit="rows")
        r.progress(done, total, unit="rows", stage="matching")
        r.finish("partial", text="3 files missing")  # optional: the block's end finishes the run

Standard library only, so that any job can import it.

Promises to the job:

* Telemetry calls never raise. Arguments are not checked here: the server validates
  them, and an event it refuses is written to ``<spool>.rejected`` with a warning.
  Values JSON cannot carry are converted (NaN/infinity → null, Decimal → float,
  other objects → ``str``). Note texts are clipped to 4000 characters.
* A down or slow server costs a short, bounded delay. Each HTTP attempt has a hard
  deadline (``timeout``) that also covers DNS and a server that answers slowly; after
  a failure the client enters a back-off window (15 s, doubling up to 5 min) during
  which events go straight to the spool with no network at all.
* Nothing is lost silently. Undelivered events go to a spool file shared by the
  processes of the host (see ``ingest.spool``) and are sent, oldest first, before
  anything new on the next call that reaches the server.
* Retries are idempotent: each event carries a client-made ``id``, its true time
  ``at`` and an explicit run key, so an event delivered twice is stored once.
* At most one warning per kind of problem per back-off window, on the logger
  ``opentrace.client`` (stderr when the application configured no logging).

Events are sent synchronously, one POST per call, except that progress updates are
throttled (see ``Run.progress``).

Environment: ``OPENTRACE_URL`` (default http://127.0.0.1:8080), ``OPENTRACE_TOKEN``,
``OPENTRACE_SPOOL`` (default ``$XDG_CACHE_HOME/opentrace/spool.jsonl``, that is
``~/.cache/opentrace/spool.jsonl``), ``OPENTRACE_CLIENT_TIMEOUT`` (seconds, default 2).
"""

from __future__ import annotations

import decimal
import enum
import functools
import getpass
import hashlib
import http.client
import json
import logging
import math
import numbers
import os
import queue
import secrets
import shlex
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ParamSpec

from ingest.spool import Rejected, Spool, Spooled

__all__ = ["Client", "Run", "run"]

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 2.0
MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 1_000_000
"""Stay under the server's 1 MiB body limit, with room for the brackets."""
MAX_TEXT = 4000
MAX_COMMAND = 1000
MAX_ANSWER_BYTES = 1024 * 1024

Event = dict[str, Any]
_log = logging.getLogger("opentrace.client")
_P = ParamSpec("_P")


class Outcome(enum.Enum):
    """What became of a batch of events."""

    ACCEPTED = "accepted"
    """The server stored them (or already had them)."""
    SPOOLED = "spooled"
    """Kept in the spool for a later attempt."""
    REJECTED = "rejected"
    """The server refused some for good; they are in the rejected file."""
    UNDELIVERED = "undelivered"
    """Neither delivered nor kept (spooling was not asked for, or it failed)."""


@dataclass(frozen=True)
class Delivery:
    """The result of ``Client.deliver``."""

    outcome: Outcome
    status: int | None = None
    """HTTP status of the server's last answer, None when it gave none."""
    answer: Any = None
    """The server's last answer (parsed JSON), if any."""
    message: str = ""
    """Why the events were not accepted, for people."""


class Client:
    """Sends events to OpenTrace; spools what it cannot deliver. Thread-safe."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = None,
        spool_path: str | os.PathLike[str] | None = None,
        backoff_initial: float = 15.0,
        backoff_max: float = 300.0,
    ) -> None:
        """Arguments left as None come from the environment (see the module docstring)."""
        self.url = (url or os.environ.get("OPENTRACE_URL") or DEFAULT_URL).rstrip("/")
        self._token = os.environ.get("OPENTRACE_TOKEN", "") if token is None else token
        self.timeout = _timeout_from_env() if timeout is None else timeout
        self._spool = Spool(Path(spool_path) if spool_path else default_spool_path())
        self._auth = _fingerprint(self._token)
        self._backoff = _Backoff(backoff_initial, backoff_max)
        self._warnings = _Warnings()
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._idle_spool: tuple[int, int, int] | None = None
        """Spool file state known to hold nothing for this server: no need to read it."""

    @property
    def spool_path(self) -> Path:
        return self._spool.path

    @property
    def rejected_path(self) -> Path:
        return self._spool.rejected_path

    def send(self, events: Sequence[Mapping[str, Any]]) -> bool:
        """Deliver events, spooling what cannot be delivered now. True when all accepted."""
        return self.deliver(events).outcome is Outcome.ACCEPTED

    def deliver(self, events: Sequence[Mapping[str, Any]], *, spool: bool = True) -> Delivery:
        """Deliver events after what the spool holds for this server; never raises.

        With ``spool=False`` events that could not be delivered are not kept
        (outcome UNDELIVERED) and the caller decides what to do with them.
        """
        try:
            items = [_Item(_encode(event)) for event in events]
            with self._lock:
                return self._deliver(items, spool)
        except Exception as error:  # the last line of defence: never break the job
            self._warnings.warn("bug", f"OpenTrace client error, events lost: {error!r}", 60)
            return Delivery(Outcome.UNDELIVERED, message=repr(error))

    def spool(self, events: Sequence[Mapping[str, Any]]) -> bool:
        """Keep events in the spool for a later call to deliver. Never raises."""
        try:
            items = [_Item(_encode(event)) for event in events]
            with self._lock:
                return self._keep(items)
        except Exception as error:  # the last line of defence: never break the job
            self._warnings.warn("bug", f"OpenTrace client error, events lost: {error!r}", 60)
            return False

    def _deliver(self, items: list[_Item], spool: bool) -> Delivery:
        if not items:
            return Delivery(Outcome.ACCEPTED, answer={"accepted": 0, "duplicates": 0, "runs": []})
        if self._backoff.active():
            return self._hold(items, spool, self._backoff.reason)
        # New events queue behind old ones, unless the caller keeps them itself and the
        # drain only ran out of time (a failure would have started a back-off).
        if not self._drain():
            if self._backoff.active():
                return self._hold(items, spool, self._backoff.reason)
            if spool:
                return self._hold(items, spool, "older spooled events are still being sent")
        return self._deliver_now(items, spool)

    def _hold(self, items: list[_Item], spool: bool, reason: str) -> Delivery:
        if spool and self._keep(items):
            return Delivery(Outcome.SPOOLED, message=reason)
        return Delivery(Outcome.UNDELIVERED, message=reason)

    def _keep(self, items: Sequence[_Item]) -> bool:
        try:
            self._spool.append(self.url, self._auth, [item.encoded for item in items])
        except OSError as error:
            message = f"OpenTrace cannot write its spool ({error}); {len(items)} event(s) lost"
            self._warnings.warn("spool", message, self._backoff.window)
            return False
        return True

    def _deliver_now(self, items: list[_Item], spool: bool) -> Delivery:
        result = _Tally()
        chunks = list(_chunks(items))
        for index, chunk in enumerate(chunks):
            verdict = self._judge(self._exchange(chunk))
            self._record_rejections(verdict)
            result.add(verdict)
            if verdict.stop:
                result.kept.extend(item for later in chunks[index + 1 :] for item in later)
                break
        return self._conclude(result, spool)

    def _conclude(self, result: _Tally, spool: bool) -> Delivery:
        answer = result.answer
        status, body, message = answer.status, answer.body, answer.describe()
        if result.kept:
            outcome = Outcome.SPOOLED if spool and self._keep(result.kept) else Outcome.UNDELIVERED
            return Delivery(outcome, status, body, message)
        if result.rejected:
            return Delivery(Outcome.REJECTED, status, body, result.rejected[0][1])
        return Delivery(Outcome.ACCEPTED, status, body)

    def _drain(self) -> bool:
        """Deliver what earlier calls spooled for this server, oldest first.

        True when nothing of ours is left. False when a failure or the time budget
        (one ``timeout``, so a big spool is sent over several calls) stopped it.
        An unreadable spool is reported and skipped: new events still go out.
        """
        if not self._spool.has_records() or self._spool.signature() == self._idle_spool:
            return True
        try:
            return self._drain_spool()
        except OSError as error:
            message = f"OpenTrace cannot use its spool {self.spool_path} ({error})"
            self._warnings.warn("spool", message, self._backoff.window)
            return True

    def _drain_spool(self) -> bool:
        snapshot = self._spool.load()
        self._reject_corrupt([record for record in snapshot.records if record.event is None])
        ours = [
            _Item(_encode(r.event), r) for r in snapshot.records if r.event is not None and r.url == self.url
        ]
        if not ours:
            self._idle_spool = snapshot.signature
            return True
        deadline = time.monotonic() + self.timeout
        for chunk in _chunks(ours):
            if time.monotonic() > deadline:
                return False
            verdict = self._judge(self._exchange(chunk))
            self._record_rejections(verdict)
            self._spool.remove(_records(verdict.delivered + [i for i, _ in verdict.rejected]))
            if verdict.stop:
                return False
        return True

    def _reject_corrupt(self, records: list[Spooled]) -> None:
        if not records:
            return
        rejected = [Rejected(json.dumps(r.line), r.url, "corrupt spool line") for r in records]
        self._write_rejected(rejected)
        self._spool.remove(records)

    def _exchange(self, items: list[_Item], retries: int = 2) -> _Exchange:
        """POST one chunk; split it when too large, drop the events named invalid.

        ``retries`` bounds the resending of what is left after dropping invalid events.
        """
        answer = self._post(items)
        if answer.ok:
            return _Exchange(answer, delivered=items)
        if answer.status == 413 and len(items) > 1:
            return self._exchange_halves(items, retries)
        if answer.status == 422:
            return self._exchange_valid(items, answer, retries)
        return _Exchange(answer, failed=items)

    def _exchange_halves(self, items: list[_Item], retries: int) -> _Exchange:
        middle = len(items) // 2
        first = self._exchange(items[:middle], retries)
        if first.failed:
            failed = first.failed + items[middle:]
            return _Exchange(first.answer, first.delivered, first.rejected, failed)
        second = self._exchange(items[middle:], retries)
        return _Exchange(
            second.answer,
            first.delivered + second.delivered,
            first.rejected + second.rejected,
            second.failed,
        )

    def _exchange_valid(self, items: list[_Item], answer: _Answer, retries: int) -> _Exchange:
        """The server refuses a batch whole when one event is invalid: resend the others."""
        reasons = _invalid_reasons(answer, len(items))
        if not reasons or retries == 0:
            everything = [(item, reasons.get(i, answer.describe())) for i, item in enumerate(items)]
            return _Exchange(answer, rejected=everything)
        rejected = [(items[index], reason) for index, reason in reasons.items()]
        rest = [item for index, item in enumerate(items) if index not in reasons]
        if not rest:
            return _Exchange(answer, rejected=rejected)
        retried = self._exchange(rest, retries - 1)
        return _Exchange(retried.answer, retried.delivered, rejected + retried.rejected, retried.failed)

    def _judge(self, exchange: _Exchange) -> _Verdict:
        """Decide what becomes of the events the server did not take."""
        answer = exchange.answer
        verdict = _Verdict(answer, exchange.delivered, list(exchange.rejected))
        if not exchange.failed:
            self._backoff.succeeded()
            return verdict
        if answer.transient:
            verdict.kept = exchange.failed
        elif answer.auth_refused:
            # A spooled event of another token may still be delivered by its own process.
            for item in exchange.failed:
                if item.record is not None and item.record.auth != self._auth:
                    verdict.kept.append(item)
                else:
                    verdict.rejected.append((item, answer.describe()))
        else:
            verdict.rejected.extend((item, answer.describe()) for item in exchange.failed)
            self._backoff.succeeded()
            return verdict
        verdict.stop = True
        self._enter_backoff(answer)
        return verdict

    def _enter_backoff(self, answer: _Answer) -> None:
        window = self._backoff.failed(answer.describe(), answer.retry_after)
        if answer.auth_refused:
            message = (
                f"OpenTrace at {self.url} refused the token ({answer.describe()}); "
                f"check OPENTRACE_TOKEN. Refused events are in {self.rejected_path}; "
                f"the next ones wait in {self.spool_path} for {window:.0f} s"
            )
        else:
            message = (
                f"OpenTrace at {self.url} is unavailable ({answer.describe()}); "
                f"events go to {self.spool_path} for the next {window:.0f} s"
            )
        self._warnings.warn("server", message, window)

    def _record_rejections(self, verdict: _Verdict) -> None:
        rejected = verdict.rejected
        if not rejected:
            return
        self._write_rejected([Rejected(item.encoded, self.url, reason) for item, reason in rejected])
        message = (
            f"OpenTrace refused {len(rejected)} event(s) ({rejected[0][1]}); "
            f"they were written to {self.rejected_path}"
        )
        # A refused token was just reported, rejected file included: say it once.
        kind = "server" if verdict.answer.auth_refused else "rejected"
        self._warnings.warn(kind, message, self._backoff.window)

    def _write_rejected(self, rejected: Sequence[Rejected]) -> None:
        try:
            self._spool.reject(rejected)
        except OSError as error:
            message = f"OpenTrace cannot write {self.rejected_path} ({error})"
            self._warnings.warn("spool", message, self._backoff.window)

    def _post(self, items: Sequence[_Item]) -> _Answer:
        body = ("[" + ",".join(item.encoded for item in items) + "]").encode("utf-8")
        return _with_deadline(functools.partial(self._post_blocking, body), self.timeout)

    def _post_blocking(self, body: bytes) -> _Answer:
        request = urllib.request.Request(
            self.url + "/v1/events", data=body, method="POST", headers=self._headers()
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Answer(response.status, _read_json(response))
        except urllib.error.HTTPError as error:
            with error:
                retry_after = _seconds(error.headers.get("Retry-After"))
                return _Answer(error.code, _read_json(error), str(error.reason), retry_after)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return _Answer(None, None, _describe_error(error))

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "opentrace-client/0.1"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers


def _guarded(method: Callable[_P, None]) -> Callable[_P, None]:
    """Telemetry must never break the job: log unexpected errors instead of raising."""

    @functools.wraps(method)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception:
            _log.warning("OpenTrace telemetry call failed", exc_info=True)

    return guarded


class Run:
    """One run of a job. Every method reports one event and never raises.

    As a context manager it sends ``start`` on entry and, unless ``finish`` was called,
    ``finish`` on exit: succeeded, or when the block raises, a ``note`` with the end
    of the traceback and ``finish`` failed with the exception type and text
    (cancelled for KeyboardInterrupt; ``SystemExit(0)`` counts as success). The
    exception always propagates unchanged.
    """

    def __init__(
        self,
        client: Client,
        job: str,
        key: str | None = None,
        *,
        attributes: Mapping[str, Any] | None = None,
        progress_interval: float = 1.0,
    ) -> None:
        self.client = client
        self.job = job
        self.key = key or new_run_key()
        self.attributes = dict(attributes or {})
        self.progress_interval = progress_interval
        self.finished = False
        self._lock = threading.Lock()
        self._pending_progress: Event | None = None
        self._progress_sent_at: float | None = None
        self._progress_stage: Any = None

    def __enter__(self) -> Run:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.finished:
            self._finish_after(exc)

    @_guarded
    def start(self) -> None:
        """Send the start event, with the attributes given to the constructor."""
        self._emit("start", {"attributes": self.attributes})

    @_guarded
    def milestone(self, name: str, status: str = "reached", text: str | None = None) -> None:
        """status: reached, failed or skipped."""
        self._emit("milestone", {"name": name, "status": status, **_present(text=text)})

    @_guarded
    def metric(self, name: str, value: float, unit: str | None = None) -> None:
        self._emit("metric", {"name": name, "value": value, **_present(unit=unit)})

    @_guarded
    def note(self, text: str, level: str = "info") -> None:
        """level: info, warning or error. Texts longer than 4000 characters are clipped."""
        self._emit("note", {"text": _clip(str(text)), "level": level})

    @_guarded
    def progress(
        self,
        done: float,
        total: float | None = None,
        unit: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Report progress; cheap enough to call for every row.

        At most one update per ``progress_interval`` seconds is sent right away; the
        latest one in between is held and sent with the next event (or the finish).
        A new stage or reaching the total is sent at once.
        """
        fields = {"done": done, **_present(total=total, unit=unit, stage=stage)}
        event = make_event("progress", self.job, self.key, fields)
        with self._lock:
            if not self._progress_due(done, total, stage):
                self._pending_progress = event
                return
        self._send([event])

    @_guarded
    def payload(self, name: str, data: Any) -> None:
        """Attach a JSON document (at most 64 KiB) such as the input file's details."""
        self._emit("payload", {"name": name, "data": data})

    @_guarded
    def duration(self, name: str, seconds: float) -> None:
        self._emit("duration", {"name": name, "seconds": seconds})

    @_guarded
    def finish(self, status: str = "succeeded", text: str | None = None) -> None:
        """status: succeeded, failed, partial or cancelled."""
        self.finished = True
        self._emit("finish", {"status": status, **_present(text=_clip(text))})

    @_guarded
    def _finish_after(self, error: BaseException | None) -> None:
        if error is None or (isinstance(error, SystemExit) and error.code in (0, None)):
            self.finish("succeeded")
            return
        self.finished = True
        finish = {"status": "failed", "text": _clip(describe_exception(error))}
        if isinstance(error, KeyboardInterrupt):
            self._send([self._event("finish", {**finish, "status": "cancelled"})])
            return
        note = {"text": _traceback_tail(error), "level": "error"}
        self._send([self._event("note", note), self._event("finish", finish)])

    def _emit(self, kind: str, fields: Mapping[str, Any]) -> None:
        self._send([self._event(kind, fields)])

    def _event(self, kind: str, fields: Mapping[str, Any]) -> Event:
        return make_event(kind, self.job, self.key, fields)

    def _send(self, events: list[Event]) -> None:
        """Send events, preceded by the progress update held back, if any."""
        with self._lock:
            held, self._pending_progress = self._pending_progress, None
        self.client.deliver([held, *events] if held else events)

    def _progress_due(self, done: Any, total: Any, stage: Any) -> bool:
        now = time.monotonic()
        due = (
            self._progress_sent_at is None
            or now - self._progress_sent_at >= self.progress_interval
            or stage != self._progress_stage
            or _reached(done, total)
        )
        if due:
            self._progress_sent_at, self._progress_stage = now, stage
        return due


def run(
    job: str,
    url: str | None = None,
    token: str | None = None,
    *,
    key: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    client: Client | None = None,
) -> Run:
    """Describe one run of ``job``: ``with opentrace.run("nightly-import") as r: ...``.

    ``key`` is the run key (generated when omitted); ``attributes`` are added to the
    start event's (host, user, pid, command, trigger). ``client`` replaces url/token.
    """
    process = process_attributes(sys.argv, "python", pid=os.getpid())
    return Run(client or Client(url, token), job, key, attributes={**process, **(attributes or {})})


def make_event(kind: str, job: str, run_key: str | None, fields: Mapping[str, Any]) -> Event:
    """An event with a fresh id and the current time; ``fields`` may override both."""
    event: Event = {"kind": kind, "job": job}
    if run_key is not None:
        event["run"] = run_key
    event.update(id=uuid.uuid4().hex, at=datetime.now(UTC).isoformat())
    event.update(fields)
    return event


def new_run_key() -> str:
    """A readable, sortable, unique run key: ``20261125T093000Z-3f9a1c``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def process_attributes(command: Sequence[str] | None, trigger: str, pid: int | None) -> dict[str, Any]:
    """Start attributes describing the process that runs the job."""
    attributes: dict[str, Any] = {"host": _hostname(), "user": _user()}
    if pid is not None:
        attributes["pid"] = pid
    if command is not None:
        attributes["command"] = _clip(shlex.join(str(part) for part in command), MAX_COMMAND)
    attributes["trigger"] = trigger
    return attributes


def describe_exception(error: BaseException) -> str:
    """``ValueError: bad row 12``; the module is named for exceptions not built in."""
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    text = str(error)
    return f"{name}: {text}" if text else name


def default_spool_path() -> Path:
    """``$OPENTRACE_SPOOL``, else ``opentrace/spool.jsonl`` in the user's cache directory."""
    configured = os.environ.get("OPENTRACE_SPOOL")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(cache) if cache else Path.home() / ".cache"
    except RuntimeError:  # no home directory
        base = Path(tempfile.gettempdir()) / f"opentrace-{os.getuid()}"
    return base / "opentrace" / "spool.jsonl"


@dataclass(frozen=True)
class _Item:
    """An event on its way, encoded once; ``record`` says where it sits in the spool."""

    encoded: str
    record: Spooled | None = None


@dataclass(frozen=True)
class _Answer:
    """The server's answer to one POST; status None when there was none."""

    status: int | None
    body: Any
    error: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def transient(self) -> bool:
        """Worth trying again later: no answer, timeout, throttled or server-side trouble."""
        return self.status is None or self.status in (408, 429) or self.status >= 500

    @property
    def auth_refused(self) -> bool:
        return self.status in (401, 403)

    def describe(self) -> str:
        if self.status is None:
            return self.error or "no answer"
        text = f"HTTP {self.status}"
        if isinstance(self.body, dict) and self.body.get("error"):
            text += f": {self.body['error']}"
        elif self.error:
            text += f": {self.error}"
        return text


@dataclass
class _Exchange:
    """What one chunk's POST (and its follow-ups) achieved."""

    answer: _Answer
    delivered: list[_Item] = field(default_factory=list)
    rejected: list[tuple[_Item, str]] = field(default_factory=list)
    failed: list[_Item] = field(default_factory=list)


@dataclass
class _Verdict:
    """An exchange judged: rejected events get a reason, kept ones are retried later."""

    answer: _Answer
    delivered: list[_Item]
    rejected: list[tuple[_Item, str]]
    kept: list[_Item] = field(default_factory=list)
    stop: bool = False
    """The server is unavailable or refuses us: send nothing more for now."""


@dataclass
class _Tally:
    """Verdicts on the chunks of one delivery, added up."""

    answer: _Answer = field(default_factory=lambda: _Answer(None, None, "nothing sent"))
    rejected: list[tuple[_Item, str]] = field(default_factory=list)
    kept: list[_Item] = field(default_factory=list)

    def add(self, verdict: _Verdict) -> None:
        self.answer = verdict.answer
        self.rejected.extend(verdict.rejected)
        self.kept.extend(verdict.kept)


class _Backoff:
    """After a failure, a window without network: initial seconds, doubling to a maximum."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = maximum
        self._failures = 0
        self._until = 0.0
        self.reason = ""
        """Why the current window started."""

    @property
    def window(self) -> float:
        """The current (or next) window's length."""
        if self._failures == 0:
            return self._initial
        doubled = self._initial * 2.0 ** min(self._failures - 1, 30)
        return min(doubled, self._maximum)

    def active(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, reason: str, at_least: float | None = None) -> float:
        """Start a window, longer than the last; at least the server's Retry-After."""
        self.reason = reason
        self._failures += 1
        window = min(max(self.window, at_least or 0.0), self._maximum)
        self._until = time.monotonic() + window
        return window

    def succeeded(self) -> None:
        self._failures = 0
        self._until = 0.0


class _Warnings:
    """Log at most one warning of each kind per window, not one per event."""

    def __init__(self) -> None:
        self._quiet_until: dict[str, float] = {}

    def warn(self, kind: str, message: str, window: float) -> None:
        now = time.monotonic()
        if now < self._quiet_until.get(kind, 0.0):
            return
        self._quiet_until[kind] = now + window
        _log.warning("%s", message)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect means a wrong URL: report it rather than re-POST somewhere else."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> None:
        return None


def _with_deadline(call: Callable[[], _Answer], seconds: float) -> _Answer:
    """Run ``call`` in a daemon thread and give up after ``seconds``.

    The socket timeout alone does not bound an attempt: DNS resolution ignores it and
    a server trickling its answer resets it on every byte. An abandoned attempt may
    still reach the server; the events are then also spooled and the server
    deduplicates them by id.
    """
    answers: queue.SimpleQueue[_Answer] = queue.SimpleQueue()

    def attempt() -> None:
        try:
            answers.put(call())
        except Exception as error:
            answers.put(_Answer(None, None, _describe_error(error)))

    threading.Thread(target=attempt, name="opentrace-post", daemon=True).start()
    try:
        return answers.get(timeout=seconds)
    except queue.Empty:
        return _Answer(None, None, f"no answer within {seconds:g} s")


def _chunks(items: Sequence[_Item]) -> Iterator[list[_Item]]:
    """Batches the server accepts: at most 1000 events and under 1 MiB each."""
    chunk: list[_Item] = []
    size = 2
    for item in items:
        item_size = len(item.encoded.encode("utf-8")) + 1
        if chunk and (len(chunk) >= MAX_BATCH_EVENTS or size + item_size > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 2
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _records(items: Sequence[_Item]) -> list[Spooled]:
    return [item.record for item in items if item.record is not None]


def _invalid_reasons(answer: _Answer, count: int) -> dict[int, str]:
    """Index → reason for each event a 422 answer's details name."""
    details = answer.body.get("details") if isinstance(answer.body, dict) else None
    reasons: dict[int, list[str]] = {}
    for detail in details if isinstance(details, list) else []:
        index = detail.get("index") if isinstance(detail, dict) else None
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < count:
            reasons.setdefault(index, []).append(f"{detail.get('field')}: {detail.get('message')}")
    return {index: f"{answer.describe()} ({'; '.join(texts)})" for index, texts in reasons.items()}


def _encode(event: Mapping[str, Any]) -> str:
    """Compact JSON; whatever the job passed, the result is valid JSON."""
    try:
        return _dumps(_finite(event))
    except (ValueError, TypeError, RecursionError):  # circular data, odd keys…
        return _dumps({str(key): _plain(value) for key, value in event.items()})


def _dumps(value: Any) -> str:
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, default=_json_default, separators=(",", ":")
    )


def _finite(value: Any) -> Any:
    """Replace NaN and infinities, which JSON cannot carry, with null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return repr(value)


def _read_json(response: IO[bytes]) -> Any:
    try:
        return json.loads(response.read(MAX_ANSWER_BYTES))
    except (OSError, ValueError, http.client.HTTPException):
        return None


def _seconds(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None  # an HTTP date: rare enough to ignore


def _describe_error(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    return str(error) or type(error).__name__


def _present(**fields: Any) -> dict[str, Any]:
    """The optional fields that were given."""
    return {key: value for key, value in fields.items() if value is not None}


def _clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _reached(done: Any, total: Any) -> bool:
    try:
        return total is not None and bool(done >= total)
    except TypeError:
        return False


def _traceback_tail(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error)).rstrip()
    return text if len(text) <= MAX_TEXT else "…" + text[-(MAX_TEXT - 1) :]


def _timeout_from_env() -> float:
    text = os.environ.get("OPENTRACE_CLIENT_TIMEOUT")
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and value > 0:
        return value
    _log.warning("ignoring OPENTRACE_CLIENT_TIMEOUT=%r: not a positive number of seconds", text)
    return DEFAULT_TIMEOUT


def _fingerprint(token: str) -> str:
    """Tells tokens apart in the spool without storing them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16] if token else ""


def _hostname() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return str(os.getuid())
