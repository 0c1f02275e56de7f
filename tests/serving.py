"""Helpers for tests that run `opentrace` as a real process."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def opentrace_command() -> list[str]:
    script = Path(sys.executable).parent / "opentrace"
    return [str(script)] if script.exists() else [sys.executable, "-m", "opentrace"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}: {output}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not become healthy within {timeout}s")
