"""`opentrace exec`: run an unmodified command and report it to OpenTrace as one run.

The command's stdout and stderr go through pipes and are copied, byte for byte, to
ours as they arrive, while the last lines are kept for the closing note. Because the
command writes to pipes rather than a terminal, it may buffer its output in larger
blocks than when run directly; the bytes are the same.

Whatever happens to the telemetry (server down, slow, refusing the token), the exit
code is the command's: telemetry problems only cost a bounded delay, a warning on
stderr and spooled events (see ``ingest.client``).
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType
from typing import IO

from ingest.client import Client, Run, process_attributes

TAIL_CHARS = 4000
"""The closing note holds at most this much of the output: the server's note limit."""
OUTPUT_GRACE_SECONDS = 2.0
"""How long to wait for the output pipes to close once the command exited: a
background process it started may keep them open for ever."""
_READ_SIZE = 64 * 1024
_FORWARDED = (signal.SIGINT, signal.SIGTERM)


def execute(command: Sequence[str], client: Client, *, job: str, run_key: str | None, tail_lines: int) -> int:
    """Run ``command`` as one OpenTrace run of ``job`` and return its exit code.

    The exit code follows the shell's conventions: 127 when the command is not
    found, 126 when it cannot be run, 128 + N when signal N killed it.
    """
    started = time.monotonic()
    tail = Tail(tail_lines, TAIL_CHARS)
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as error:
        run = Run(client, job, run_key, attributes=_attributes(command, None))
        return _report_launch_failure(run, command, error)
    pumps = [
        _start_pump(child.stdout, sys.stdout.buffer, tail, "stdout"),
        _start_pump(child.stderr, sys.stderr.buffer, tail, "stderr"),
    ]
    with _forwarding_signals(child):
        run = Run(client, job, run_key, attributes=_attributes(command, child.pid))
        run.start()
        returncode = child.wait()
        _join(pumps, OUTPUT_GRACE_SECONDS)
        code, text = exit_status(returncode)
        _report_end(run, code, text, time.monotonic() - started, tail.text())
    return code


def exit_status(returncode: int) -> tuple[int, str]:
    """The shell-style exit code for a Popen return code, and how to say it."""
    if returncode >= 0:
        return returncode, f"exit code {returncode}"
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = str(number)
    return 128 + number, f"killed by signal {name}"


class Tail:
    """The last lines of a command's output, both streams interleaved as they arrive.

    Bounded in lines and in characters, however long the lines are. Thread-safe.
    """

    def __init__(self, lines: int, chars: int) -> None:
        self._lines: deque[str] = deque(maxlen=lines)
        self._max_lines = lines
        self._chars = chars
        self._partial: dict[str, str] = {}
        self._decoders: dict[str, codecs.IncrementalDecoder] = {}
        self._lock = threading.Lock()

    def feed(self, stream: str, data: bytes, *, final: bool = False) -> None:
        """Add output of one stream; ``final`` at its end flushes a last unfinished line."""
        decoder = self._decoders.setdefault(stream, _utf8_decoder())
        with self._lock:
            text = self._partial.pop(stream, "") + decoder.decode(data, final)
            *complete, rest = text.split("\n")
            self._lines.extend(_as_displayed(line)[-self._chars :] for line in complete)
            if final and rest:
                self._lines.append(rest[-self._chars :])
            elif rest:
                self._partial[stream] = rest[-self._chars :]

    def text(self) -> str:
        """The kept lines, unfinished ones included, within the line and character limits."""
        with self._lock:
            lines = [*self._lines, *self._partial.values()]
        if self._max_lines == 0:
            return ""
        text = "\n".join(lines[-self._max_lines :])
        return text[-self._chars :]


def _attributes(command: Sequence[str], pid: int | None) -> dict[str, object]:
    return process_attributes(command, "exec", pid=pid)


def _report_launch_failure(run: Run, command: Sequence[str], error: OSError) -> int:
    code = 127 if isinstance(error, FileNotFoundError) else 126
    reason = "command not found" if code == 127 else (error.strerror or str(error))
    print(f"opentrace exec: {command[0]}: {reason}", file=sys.stderr, flush=True)
    run.start()
    run.finish("failed", f"{reason}: {command[0]} (exit code {code})")
    return code


def _report_end(run: Run, code: int, text: str, seconds: float, output: str) -> None:
    run.duration("command", round(seconds, 3))
    if output:
        run.note(output, level="info" if code == 0 else "error")
    if code == 0:
        run.finish("succeeded")
    else:
        run.finish("failed", text)


def _start_pump(source: IO[bytes] | None, sink: IO[bytes], tail: Tail, stream: str) -> threading.Thread:
    thread = threading.Thread(
        target=_pump, args=(source, sink, tail, stream), name=f"opentrace-{stream}", daemon=True
    )
    thread.start()
    return thread


def _pump(source: IO[bytes] | None, sink: IO[bytes], tail: Tail, stream: str) -> None:
    """Copy the command's output to ours unchanged, keeping its tail.

    If our side of the pipe is gone (``opentrace exec … | head``), close the
    command's pipe too so that it gets SIGPIPE, as it would without us.
    """
    if source is None:
        return
    with source:
        while chunk := os.read(source.fileno(), _READ_SIZE):
            tail.feed(stream, chunk)
            if not _write(sink, chunk):
                break
        tail.feed(stream, b"", final=True)


def _write(sink: IO[bytes], chunk: bytes) -> bool:
    try:
        sink.write(chunk)
        sink.flush()
    except (OSError, ValueError):  # broken pipe, or closed
        return False
    return True


def _join(threads: Sequence[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


@contextmanager
def _forwarding_signals(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """Pass SIGINT and SIGTERM on to the command, and keep them from killing us early.

    We stay alive until the command ends, so that its end is reported. Only the main
    thread may set signal handlers; elsewhere (a library caller's thread) nothing is
    forwarded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(number: int, frame: FrameType | None) -> None:
        if number == signal.SIGINT and _terminal_sends_sigint_to_child():
            return
        with suppress(OSError):
            child.send_signal(number)

    previous = {number: signal.signal(number, forward) for number in _FORWARDED}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _terminal_sends_sigint_to_child() -> bool:
    """Whether a SIGINT most likely came from Ctrl-C on our terminal.

    The terminal sends it to its whole foreground process group, which the command
    shares with us: forwarding it would deliver it twice (a second Ctrl-C often means
    "stop cleaning up"). A signal does not say who sent it, so when we are in the
    terminal's foreground group we assume the terminal did.
    """
    for descriptor in (0, 1, 2):
        with suppress(OSError):
            if os.isatty(descriptor) and os.tcgetpgrp(descriptor) == os.getpgrp():
                return True
    return False


def _as_displayed(line: str) -> str:
    """What a terminal shows of a line: progress bars redraw it after carriage returns."""
    return line.rstrip("\r").rsplit("\r", 1)[-1]


def _utf8_decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")
