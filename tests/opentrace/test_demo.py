"""`opentrace demo`: the seed story against a real server on 127.0.0.1 — the alerts a channel
would have received (which, when, once) and the bot's answer, read from what it prints."""

import asyncio
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from opentrace.demo import run_demo
from tests.serving import opentrace_command

DEMO_TIMEOUT = 120  # seconds; the story takes a few
NIGHT = re.compile(r"^(?P<day>\w{3} \d\d \w{3}) — (?P<title>.+)$", re.MULTILINE)
RECEIVED = re.compile(r"^  (?P<time>\d\d:\d\d) (?P<how>→ Sales channel|↻ Sales channel \(its card "
                      r"updated\)): (?P<text>.+)$", re.MULTILINE)
ANSWER = "No — today's Nightly product import started at 00:12"


def nights(output: str) -> dict[str, tuple[str, str]]:
    """Each night's header day -> (title, what was printed under it until the next header)."""
    headers = list(NIGHT.finditer(output))
    return {h.group("day"): (h.group("title"), output[h.end():nxt.start() if nxt else len(output)])
            for h, nxt in zip(headers, [*headers[1:], None], strict=True)}


def assert_tells_the_story(output: str) -> None:
    told = nights(output)
    normal = [day for day, (title, _) in told.items() if title == "normal night"]
    assert normal == ["Wed 18 Nov", "Thu 19 Nov", "Fri 20 Nov", "Sat 21 Nov", "Sun 22 Nov",
                      "Mon 23 Nov", "Tue 24 Nov"], output
    for day in normal:
        assert not RECEIVED.search(told[day][1]), f"an alert on the normal night of {day}"
        assert "Sales channel: no alert" in told[day][1]

    title, bad_night = told["Wed 25 Nov"]
    assert title == "the supplier changed the file format"
    received = [(m.group("time"), m.group("text")) for m in RECEIVED.finditer(bad_night)]
    assert len(RECEIVED.findall(output)) == len(received) == 3, received
    # One card for the broken night: posted as the metric arrives, then updated in place as
    # the run ends early and as 'report-published' falls due (the demo's channel prints each).
    [metric] = [r for r in received if "8,911 rows skipped, usually 30–50" in r[1]]
    early = [r for r in received
             if "ended after 'file-read' without reaching 'report-published'" in r[1]]
    assert metric[0] == "00:30"
    assert [time for time, _ in early] == ["00:31", "06:00"]
    assert bad_night.count("'report-published' was due by 06:00; the run had already ended "
                           "without it.") == 1
    assert [time for time, _ in received] == sorted(time for time, _ in received)
    assert bad_night.count("[Acknowledge] [Snooze 1 h] [Snooze until tomorrow]") == 3

    [answer] = [line for line in output.splitlines() if line.startswith("  OpenTrace: ")]
    assert answer.removeprefix("  OpenTrace: ").startswith(ANSWER), answer
    assert ("GET /v1/alerts: ended_early sent 1×; metric_out_of_range sent 1×; "
            "milestone_missed sent 1×.") in output
    assert "The Sales channel received 1 card, updated 2 times in place." in output
    assert [m.group("how").startswith("↻") for m in RECEIVED.finditer(output)] == [False, True, True]
    assert len(output.splitlines()) <= 81  # each update of the card adds its list of alerts


async def test_the_demo_tells_the_seed_story_and_keeps_the_database_it_was_given(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    out = StringIO()

    code = await asyncio.wait_for(run_demo(db, out), DEMO_TIMEOUT)

    assert code == 0, out.getvalue()
    assert_tells_the_story(out.getvalue())
    assert "http://127.0.0.1:" in out.getvalue()
    assert db.stat().st_size > 0
    assert f"OPENTRACE_DATABASE_URL=sqlite:///{db}" in out.getvalue()


async def test_the_demo_refuses_a_database_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "mine.db"
    db.write_bytes(b"someone's data")
    out = StringIO()

    code = await run_demo(db, out)

    assert code == 2
    assert out.getvalue() == ""
    assert "exists and is not empty" in capsys.readouterr().err
    assert db.read_bytes() == b"someone's data"


def test_opentrace_demo_runs_as_a_command_and_leaves_no_temporary_database(tmp_path: Path) -> None:
    command = opentrace_command()
    usage = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60,
                           check=True).stdout
    if not re.search(r"\bdemo\b", usage):
        pytest.skip("`demo` is not an `opentrace` subcommand yet "
                    "(opentrace/cli.py must call opentrace.demo.register)")
    env = {**os.environ, "TMPDIR": str(tmp_path)}

    done = subprocess.run([*command, "demo"], capture_output=True, text=True, env=env,
                          timeout=DEMO_TIMEOUT)

    assert done.returncode == 0, done.stderr
    assert_tells_the_story(done.stdout)
    assert "OPENTRACE_DATABASE_URL" not in done.stdout
    assert list(tmp_path.iterdir()) == []  # the temporary database was removed


async def test_the_demo_ends_with_commands_that_ask_about_its_story(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    out = StringIO()
    await asyncio.wait_for(run_demo(db, out), DEMO_TIMEOUT)
    commands = [line.strip() for line in out.getvalue().splitlines()
                if line.strip().startswith("OPENTRACE_DATABASE_URL=")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"

    asked = await asyncio.to_thread(
        subprocess.run, ["bash", "-e", "-c", "\n".join(commands)], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=120)

    assert len(commands) == 3 and asked.returncode == 0, asked.stderr
    assert all(" opentrace ask " in command for command in commands)
    assert "export " not in out.getvalue()  # the shell stays on the user's own database
    answers = asked.stdout
    assert "ended early" in answers and "finished successfully" not in answers
    assert "8,911" in answers
