"""Fixtures for the job-side client and commands: real `opentrace serve` processes on
127.0.0.1, a port where nothing listens, and a server that never answers."""

import json
import os
import socket
import subprocess
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.serving import free_port, opentrace_command, stop_process, wait_for_health

STARTUP_SECONDS = 30.0


def unique(prefix: str) -> str:
    """A job slug no other test uses: servers are shared."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any OPENTRACE_* setting of the developer's shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENTRACE_")}
    env.update(extra)
    return env


@dataclass
class Server:
    """A real `opentrace serve` subprocess with its own SQLite database."""

    directory: Path
    port: int = field(default_factory=free_port)
    auth: bool = False
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        database = f"sqlite:///{self.directory / 'opentrace.db'}"
        return clean_env(OPENTRACE_DATABASE_URL=database, OPENTRACE_AUTH="on" if self.auth else "off")

    def create_token(self, scope: str) -> str:
        command = [*opentrace_command(), "token", "create", f"test-{scope}", "--scope", scope]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        self.tokens[scope] = token
        return token

    def start(self) -> None:
        log = open(self.directory / "serve.log", "ab")  # noqa: SIM115 - the server keeps it
        command = [*opentrace_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        log.close()
        self._wait_until_healthy()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def get(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens['read']}"} if self.auth else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def run(self, job: str, run: str) -> dict[str, Any]:
        """What the server stored about one run."""
        quoted = urllib.parse.quote(run, safe="")
        result: dict[str, Any] = self.get(f"/v1/jobs/{job}/runs/{quoted}")
        return result

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        try:
            wait_for_health(self.url, self.process, STARTUP_SECONDS, output=lambda: (
                self.directory / "serve.log").read_text(errors="replace"))
        except (RuntimeError, TimeoutError) as exc:
            self.process = None
            pytest.fail(f"opentrace serve did not start: {exc}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server with authentication off, shared by the session."""
    running = Server(tmp_path_factory.mktemp("server"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server with authentication on and a token of each scope."""
    running = Server(tmp_path_factory.mktemp("secured"), auth=True)
    for scope in ("ingest", "read", "admin"):
        running.create_token(scope)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[[int], Server]]:
    """Start a server of this test's own on a given port (to bring a "down" server up)."""
    started: list[Server] = []

    def make(port: int) -> Server:
        directory = tmp_path / f"server-{len(started)}"
        directory.mkdir()
        new = Server(directory, port=port)
        started.append(new)
        new.start()
        return new

    yield make
    for each in started:
        each.stop()


@pytest.fixture
def unused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers.

    The socket listens but nobody calls accept(): the kernel completes the TCP
    handshake and the request waits for ever.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "spool" / "events.jsonl"


@pytest.fixture
def opentrace_env(monkeypatch: pytest.MonkeyPatch, spool_path: Path) -> Path:
    """Isolate the in-process commands from the developer's environment; returns the spool."""
    for name in [key for key in os.environ if key.startswith("OPENTRACE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OPENTRACE_SPOOL", str(spool_path))
    monkeypatch.setenv("OPENTRACE_CLIENT_TIMEOUT", "1")
    return spool_path


def spooled_events(spool: Path) -> list[dict[str, Any]]:
    """The events a spool file holds."""
    if not spool.exists():
        return []
    lines = spool.read_text().split("\n")
    return [json.loads(line)["event"] for line in lines if line.strip()]


def rejected_events(spool: Path) -> list[dict[str, Any]]:
    """The rows of a spool's rejected file."""
    rejected = spool.with_name(spool.name + ".rejected")
    if not rejected.exists():
        return []
    return [json.loads(line) for line in rejected.read_text().split("\n") if line.strip()]
