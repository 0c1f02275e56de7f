"""`opentrace serve` as a real process on any database, for the crash, outage and fuzz tests;
tokens made straight in the database, and the event ids the database holds."""

import json
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import create_engine, migrate
from storage.tokens import SCOPES, create_token
from tests.ingest.conftest import clean_env
from tests.serving import free_port, opentrace_command, stop_process, wait_for_health

STARTUP_SECONDS = 30.0


@dataclass
class ServeProcess:
    database_url: str
    directory: Path
    auth: bool = False
    settings: dict[str, str] = field(default_factory=dict)  # more OPENTRACE_* variables
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "serve.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        env = clean_env(OPENTRACE_DATABASE_URL=self.database_url,
                        OPENTRACE_AUTH="on" if self.auth else "off", **self.settings)
        command = [*opentrace_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        self.starts += 1
        self._wait_until_healthy()

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        try:
            wait_for_health(self.url, self.process, STARTUP_SECONDS, output=self.log)
        except (RuntimeError, TimeoutError) as exc:
            self.process = None
            raise AssertionError(f"opentrace serve did not start: {exc}") from None


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    headers: dict[str, str]
    body: Any
    seconds: float
    error: str = ""


def request(url: str, method: str = "GET", body: Any = None, token: str | None = None,
            timeout: float = 30) -> Answer:
    """One HTTP exchange with the standard library; never raises."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method),
                                    timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), _json(response.read()),
                          time.monotonic() - started)
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers), _json(error.read()), time.monotonic() - started)
    except OSError as error:
        return Answer(None, {}, None, time.monotonic() - started, repr(error))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


async def make_tokens(database_url: str) -> dict[str, str]:
    """A token of each scope, made in the database before the server starts."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with AsyncSession(engine) as session:
            return {scope: await create_token(f"test-{scope}", scope, datetime.now(UTC), session=session)
                    for scope in SCOPES}
    finally:
        await engine.dispose()


async def stored_event_keys(database_url: str) -> list[str]:
    """The `id` of every stored event, read straight from the database (duplicates kept)."""
    query = "SELECT key FROM events WHERE key IS NOT NULL"
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            return [key for (key,) in connection.execute(query)]
    connection = await asyncpg.connect(database_url)
    try:
        return [row["key"] for row in await connection.fetch(query)]
    finally:
        await connection.close()
