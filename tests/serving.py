"""Helpers for tests that run `opentrace` as a real process."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def opentrace_command() -> list[str]:
    script = Path(sys.executable).parent / "opentrace"
    return [str(script)] if script.exists() else [sys.executable, "-m", "opentrace"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[Any], timeout: float = 30, *,
                    output: Callable[[], str] | None = None) -> None:
    """Until `url`/healthz answers 200. `output` reads what the server wrote, for the message
    when it exits or never answers (default: its stdout pipe)."""
    def written() -> str:
        if output is not None:
            return output()
        return process.stdout.read() if process.stdout else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {written()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    stop_process(process)
    raise TimeoutError(f"{url} did not become healthy within {timeout}s: {written()}")


def stop_process(process: subprocess.Popen[Any]) -> None:
    """Terminate, and kill what does not stop within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
