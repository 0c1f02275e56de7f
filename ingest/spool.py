"""A host-local spool for events that could not be delivered yet.

The spool is a JSON-lines file shared by every OpenTrace client process on the host.
Each line is one record: ``{"url": ..., "auth": ..., "event": {...}}``. The URL says
which server the event was meant for, so a process never sends another server's
events; ``auth`` is a short fingerprint of the token (never the token itself), so a
process whose token is refused does not throw away events spooled under another one.

Concurrency: every read and write happens under an exclusive ``flock`` on a sidecar
``<spool>.lock`` file, held only for the file operation, never across network I/O.
Delivered records are removed by content (a multiset of lines), re-reading the file
under the lock, so lines appended meanwhile by other processes are kept. Two
processes draining at once may both send the same records; the server deduplicates
them by event id. Rewrites go through a temporary file and ``os.replace``, which is
why the lock lives in a separate file.

Appends are not fsync'ed: a job spooling through an outage must stay fast, and a
crash of the job's process loses nothing the kernel already has. Only a crash of
the whole host can lose the last events.

Events the server refuses for good go to ``<spool>.rejected`` (JSON lines too) so
they can be inspected and replayed by hand.

Standard library only: the client that uses this module runs inside users' jobs.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Refuse to grow the spool (or the rejected file) beyond this size: a long outage
must not fill the disk of the host running the job."""


class SpoolFullError(OSError):
    """The spool reached its size limit; the events were not kept."""


@dataclass(frozen=True)
class Spooled:
    """One record read back from the spool."""

    line: str
    """The line exactly as stored: it identifies the record when removing it."""
    url: str
    auth: str
    event: dict[str, Any] | None
    """The event, or None when the line is corrupt (e.g. a write cut by a crash)."""


@dataclass(frozen=True)
class Rejected:
    """An event refused for good, with the reason, for the rejected file."""

    event: str
    """The event as JSON text (a JSON string holding the line, for a corrupt line)."""
    url: str
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """The spool's records at one moment, and the file state they were read from."""

    records: list[Spooled]
    signature: tuple[int, int, int] | None
    """(inode, mtime_ns, size) of the file read, or None when there was no file."""


class Spool:
    """A JSON-lines spool file, safe to share between processes on one host."""

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.rejected_path = path.with_name(path.name + ".rejected")
        self.lock_path = path.with_name(path.name + ".lock")
        self.max_bytes = max_bytes

    def has_records(self) -> bool:
        """Cheap check, without the lock, that the spool is not empty."""
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def signature(self) -> tuple[int, int, int] | None:
        """(inode, mtime_ns, size) of the spool file now, or None when it does not exist."""
        try:
            return _signature(os.stat(self.path))
        except OSError:
            return None

    def append(self, url: str, auth: str, events: Sequence[str]) -> None:
        """Keep already-encoded events (one JSON object each) for later delivery.

        Raises OSError (including SpoolFullError) when they cannot be kept.
        """
        data = "".join(record_line(url, auth, event) + "\n" for event in events)
        with self._locked():
            _append_text(self.path, data, self.max_bytes)

    def load(self) -> Snapshot:
        """Read every record."""
        with self._locked():
            try:
                with open(self.path, encoding="utf-8") as file:
                    signature = _signature(os.fstat(file.fileno()))
                    text = file.read()
            except FileNotFoundError:
                return Snapshot([], None)
        return Snapshot([_parse(line) for line in _lines(text)], signature)

    def remove(self, records: Iterable[Spooled]) -> None:
        """Remove these records, keeping everything else (including lines added since)."""
        gone = Counter(record.line for record in records)
        if not gone:
            return
        with self._locked():
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return
            self._rewrite([line for line in _lines(text) if not _take(gone, line)])

    def reject(self, rejected: Sequence[Rejected]) -> None:
        """Append refused events to the rejected file. Raises OSError on failure."""
        if not rejected:
            return
        at = datetime.now(UTC).isoformat()
        data = "".join(_rejected_line(item, at) + "\n" for item in rejected)
        with self._locked():
            _append_text(self.rejected_path, data, self.max_bytes)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

    def _rewrite(self, lines: Sequence[str]) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".spool-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write("".join(line + "\n" for line in lines))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def record_line(url: str, auth: str, event: str) -> str:
    """One spool line, embedding the already-encoded event verbatim."""
    envelope = json.dumps({"url": url, "auth": auth}, ensure_ascii=False)
    return envelope[:-1] + ', "event": ' + event + "}"


def _append_text(path: Path, data: str, max_bytes: int) -> None:
    encoded = data.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_size + len(encoded) > max_bytes:
            raise SpoolFullError(f"{path} would exceed {max_bytes} bytes")
        os.write(descriptor, encoded)
    finally:
        os.close(descriptor)


def _lines(text: str) -> list[str]:
    # Not str.splitlines(): it would also split on U+2028 and friends inside JSON strings.
    return [line for line in text.split("\n") if line.strip()]


def _parse(line: str) -> Spooled:
    try:
        record = json.loads(line)
    except ValueError:
        return Spooled(line, "", "", None)
    if not isinstance(record, dict) or not isinstance(record.get("event"), dict):
        return Spooled(line, "", "", None)
    return Spooled(line, str(record.get("url", "")), str(record.get("auth", "")), record["event"])


def _take(counter: Counter[str], line: str) -> bool:
    if counter[line] <= 0:
        return False
    counter[line] -= 1
    return True


def _signature(status: os.stat_result) -> tuple[int, int, int]:
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _rejected_line(item: Rejected, at: str) -> str:
    fields = {"rejected_at": at, "url": item.url, "reason": item.reason}
    row = json.dumps(fields, ensure_ascii=False)
    return row[:-1] + ', "event": ' + item.event + "}"
