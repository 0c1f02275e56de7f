"""An unmodified command runs under `opentrace exec`: same output, same exit code, and
OpenTrace learns how it went, whatever state OpenTrace itself is in."""

import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.conftest import Server, clean_env, spooled_events, unique
from tests.serving import opentrace_command

STARTUP_MARGIN = 5.0
"""Seconds allowed for starting the `opentrace` process itself on a slow machine."""


def opentrace_exec(
    url: str, job: str, run: str, *command: str, spool: Path, **env: str
) -> subprocess.CompletedProcess[bytes]:
    argv = [*opentrace_command(), "exec", "--url", url, "--job", job, "--run", run, *command]
    environment = clean_env(OPENTRACE_SPOOL=str(spool), **env)
    return subprocess.run(argv, env=environment, capture_output=True, timeout=60, check=False)


def python(code: str) -> list[str]:
    return ["--", sys.executable, "-c", code]


def test_exec_passes_the_output_through_and_records_a_successful_run(
    server: Server, spool_path: Path
) -> None:
    job = unique("exec-ok")
    code = "import sys; print('hello'); sys.stderr.write('careful\\n'); sys.stdout.flush()"

    done = opentrace_exec(server.url, job, "r1", *python(code), spool=spool_path)

    assert (done.returncode, done.stdout, done.stderr) == (0, b"hello\n", b"careful\n")
    stored = server.run(job, "r1")
    assert stored["status"] == "succeeded"
    attributes = stored["events"][0]["attributes"]
    assert attributes["trigger"] == "exec"
    assert attributes["command"].startswith(sys.executable)
    assert {"host", "user", "pid"} <= attributes.keys()
    assert [d["name"] for d in stored["durations"]] == ["command"]
    assert [(n["level"], sorted(n["text"].split("\n"))) for n in stored["notes"]] == [
        ("info", ["careful", "hello"])
    ]


def test_exec_records_the_last_lines_of_output(server: Server, spool_path: Path) -> None:
    job = unique("exec-tail")
    code = (
        "import sys\n"
        "for n in range(1, 51): print(f'line {n}')\n"
        "sys.stdout.buffer.write(b'not utf-8: \\xff\\n')\n"
        "sys.exit(3)"
    )

    done = opentrace_exec(server.url, job, "r1", "--tail", "5", *python(code), spool=spool_path)

    assert done.returncode == 3
    expected = "".join(f"line {n}\n" for n in range(1, 51)).encode() + b"not utf-8: \xff\n"
    assert done.stdout == expected, "bytes pass through unchanged"
    stored = server.run(job, "r1")
    assert stored["status"] == "failed"
    assert stored["events"][-1]["text"] == "exit code 3"
    [note] = stored["notes"]
    assert note["level"] == "error"
    assert note["text"] == "line 47\nline 48\nline 49\nline 50\nnot utf-8: \ufffd"


def test_the_note_keeps_at_most_4000_characters_of_long_lines(server: Server, spool_path: Path) -> None:
    job = unique("exec-long")

    done = opentrace_exec(server.url, job, "r1", *python("print('x' * 10000)"), spool=spool_path)

    assert done.returncode == 0 and len(done.stdout) == 10001
    assert server.run(job, "r1")["notes"][0]["text"] == "x" * 4000


def test_exec_returns_the_commands_exit_code_when_the_server_is_down(
    unused_url: str, spool_path: Path
) -> None:
    done = opentrace_exec(unused_url, "exec-down", "r1", *python("exit(7)"), spool=spool_path)

    assert done.returncode == 7
    assert b"unavailable" in done.stderr
    kinds = [event["kind"] for event in spooled_events(spool_path)]
    assert kinds == ["start", "duration", "finish"]


def test_exec_with_a_server_that_never_answers_is_bounded(silent_url: str, spool_path: Path) -> None:
    started = time.monotonic()

    done = opentrace_exec(
        silent_url, "exec-silent", "r1", *python("print('hi')"),
        spool=spool_path, OPENTRACE_CLIENT_TIMEOUT="0.5",
    )  # fmt: skip

    assert (done.returncode, done.stdout) == (0, b"hi\n")
    assert time.monotonic() - started < 0.5 + STARTUP_MARGIN
    assert len(spooled_events(spool_path)) == 4


def test_exec_with_a_refused_token_still_returns_the_exit_code(
    secured_server: Server, spool_path: Path
) -> None:
    done = opentrace_exec(
        secured_server.url, unique("exec-bad-token"), "r1", *python("exit(4)"),
        spool=spool_path, OPENTRACE_TOKEN="wrong",
    )  # fmt: skip

    assert done.returncode == 4
    assert b"refused the token" in done.stderr


def test_exec_with_an_ingest_token_records_the_run(secured_server: Server, spool_path: Path) -> None:
    job = unique("exec-secured")

    done = opentrace_exec(
        secured_server.url, job, "r1", *python("pass"),
        spool=spool_path, OPENTRACE_TOKEN=secured_server.tokens["ingest"],
    )  # fmt: skip

    assert done.returncode == 0
    assert secured_server.run(job, "r1")["status"] == "succeeded"


def test_a_command_that_is_not_found_exits_127_and_the_run_failed(server: Server, spool_path: Path) -> None:
    job = unique("exec-missing")

    done = opentrace_exec(server.url, job, "r1", "--", "no-such-command-xyz", spool=spool_path)

    assert done.returncode == 127
    assert b"no-such-command-xyz" in done.stderr
    stored = server.run(job, "r1")
    assert stored["status"] == "failed"
    assert "not found" in stored["events"][-1]["text"]


def test_exec_without_a_command_is_a_usage_error(server: Server, spool_path: Path) -> None:
    done = opentrace_exec(server.url, "exec-nothing", "r1", "--", spool=spool_path)

    assert done.returncode == 2


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_is_forwarded_to_the_command_and_the_run_says_so(
    server: Server, spool_path: Path, signal_number: signal.Signals
) -> None:
    job = unique("exec-signalled")
    code = "import time; print('ready', flush=True); time.sleep(30)"
    argv = [*opentrace_command(), "exec", "--url", server.url, "--job", job, "--run", "r1"]
    wrapper = subprocess.Popen(
        [*argv, *python(code)],
        env=clean_env(OPENTRACE_SPOOL=str(spool_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # no terminal: the signal reaches the wrapper only
    )
    assert wrapper.stdout is not None
    assert read_line(wrapper.stdout, seconds=20) == b"ready\n"
    wait_for_start(server, job, "r1")

    wrapper.send_signal(signal_number)

    assert wrapper.wait(timeout=20) == 128 + signal_number
    stored = server.run(job, "r1")
    assert stored["status"] == "failed"
    assert stored["events"][-1]["text"] == f"killed by signal {signal_number.name}"
    wrapper.stdout.close()
    assert wrapper.stderr is not None
    wrapper.stderr.close()


def read_line(stream: Any, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no output within {seconds} s"
    line: bytes = stream.readline()
    return line


def wait_for_start(server: Server, job: str, run: str) -> None:
    """The start event is sent just after the command starts: wait until it is stored."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            server.run(job, run)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"run {job}/{run} was not started within 10 s")
