"""What the benchmarks that start real servers share: which backends to run, another commit's
code to run as the baseline, and a server process — waiting until it answers, stopping it,
the tail of its log and the CPU time it used.

The scripts run as `python bench/NAME.py`, which puts this folder on sys.path."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from local_services import HOST, PG_PORT, postgresql_reachable

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class BenchError(Exception):
    pass


def choose_backends(choice: str) -> list[str] | None:
    """The real-server backends to run; None when PostgreSQL was demanded but is not there."""
    backends = ["sqlite"] if choice in ("sqlite", "both") else []
    if choice in ("postgresql", "both"):
        if postgresql_reachable():
            backends.append("postgresql")
        elif choice == "postgresql":
            print(f"PostgreSQL does not answer on {HOST}:{PG_PORT}.", file=sys.stderr)
            return None
        else:
            print(f"note: PostgreSQL does not answer on {HOST}:{PG_PORT}; running SQLite only.")
    return backends


def export_tree(ref: str, target: Path) -> Path | None:
    """The tree of `ref` in `target`, via `git archive` (which touches neither the working
    tree nor the index nor any ref); None when git or the ref is not there."""
    target.mkdir()
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref],
                                 capture_output=True, timeout=60, check=False)
        if archive.returncode != 0:
            return None
        unpack = subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout,
                                capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return target if unpack.returncode == 0 else None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all threads (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1.0) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchError(f"server not ready within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{tail(log)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
