"""A shell script reports its run with `opentrace send`, one event per line of script."""

import json
from pathlib import Path
from typing import Any

import pytest

from opentrace.cli import main
from tests.ingest.conftest import Server, spooled_events, unique


def send(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """Run `opentrace send ...` in process: exit code, the JSON answer printed, stderr."""
    code = main(["send", *argv])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) <= 1, "send prints one JSON line"
    return code, json.loads(lines[0]) if lines else None, err


def test_a_shell_script_reports_a_whole_run(
    server: Server, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job, run = unique("shell-import"), "2026-11-25"
    target = ["--url", server.url, "--job", job, "--run", run]

    script = [
        ["start", *target, 'attributes:={"host": "batch-1", "files": 3}'],
        ["progress", *target, "done=40", "total=100", "unit=rows", "stage=matching"],
        ["metric", *target, "name=rows_skipped", "value=2.5", "unit=rows"],
        ["payload", *target, "name=input-file", 'data:={"path": "/in/x.csv"}'],
        ["duration", *target, "name=matching", "seconds=12"],
        ["milestone", *target, "name=file-read"],
        ["note", *target, "text=3 rows had no price", "level=warning"],
        ["finish", *target, "status=partial", "text=one file missing"],
    ]
    for argv in script:
        code, answer, err = send(capsys, *argv)
        assert (code, answer["accepted"], err) == (0, 1, ""), argv

    stored = server.run(job, run)
    assert stored["status"] == "partial"
    attributes = stored["events"][0]["attributes"]
    assert (attributes["host"], attributes["files"]) == ("batch-1", 3), "given ones win"
    assert attributes["trigger"] == "send" and "user" in attributes
    assert stored["progress"]["done"] == 40 and stored["progress"]["total"] == 100
    assert stored["metrics"]["rows_skipped"]["value"] == 2.5
    assert stored["payloads"][0]["data"] == {"path": "/in/x.csv"}
    assert stored["durations"][0]["seconds"] == 12
    assert stored["milestones"][0]["status"] == "reached"
    assert stored["notes"][0]["level"] == "warning"
    assert stored["events"][-1]["text"] == "one file missing"


def test_start_without_a_run_prints_the_run_the_server_made_and_later_events_join_it(
    server: Server, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = unique("no-run-key")

    code, answer, _ = send(capsys, "start", "--url", server.url, "--job", job)
    assert code == 0
    [made] = answer["runs"]
    assert made["job"] == job and made["run"]

    assert send(capsys, "note", "--url", server.url, "--job", job, "text=hello")[0] == 0

    stored = server.run(job, made["run"])
    assert [note["text"] for note in stored["notes"]] == ["hello"]
    assert stored["events"][0]["attributes"]["trigger"] == "send"


def test_an_event_the_server_refuses_exits_2_with_its_error(
    server: Server, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = unique("refused")

    code, answer, err = send(capsys, "finish", "--url", server.url, "--job", job, "status=done")

    assert code == 2
    assert answer["details"][0]["field"] == "status"
    assert "refused by the server" in err and "status" in err
    assert spooled_events(opentrace_env) == []


@pytest.mark.parametrize(
    "fields",
    [
        ["name=rows", "value=many"],
        ["name=rows", "value:=[1"],
        ["name", "value=1"],
        ["name=rows", "name=again", "value=1"],
        ["job=other", "name=rows", "value=1"],
    ],
    ids=["number", "json", "no-equals", "twice", "job-as-field"],
)
def test_a_malformed_command_line_exits_2_and_sends_nothing(
    server: Server,
    opentrace_env: Path,
    capsys: pytest.CaptureFixture[str],
    fields: list[str],
) -> None:
    code, answer, err = send(capsys, "metric", "--url", server.url, "--job", "x", *fields)

    assert (code, answer) == (2, None)
    assert err.startswith("opentrace send: ")
    assert spooled_events(opentrace_env) == []


def test_an_unknown_kind_is_a_usage_error(opentrace_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["send", "heartbeat", "--job", "x"])

    assert exited.value.code == 2


def test_an_unreachable_server_spools_the_event_and_exits_0_with_a_warning(
    unused_url: str, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, answer, err = send(capsys, "start", "--url", unused_url, "--job", "offline")

    assert code == 0
    assert answer["spooled"] == 1
    [event] = spooled_events(opentrace_env)
    assert answer["runs"] == [{"job": "offline", "run": event["run"]}], "a run key to go on with"
    assert "spooled" in err


def test_with_no_spool_an_unreachable_server_exits_1(
    unused_url: str, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, answer, err = send(capsys, "note", "--url", unused_url, "--no-spool", "--job", "x", "text=hi")

    assert (code, answer) == (1, None)
    assert "not delivered" in err
    assert spooled_events(opentrace_env) == []


def test_send_uses_the_token_given_and_refuses_to_go_on_without_one(
    secured_server: Server, opentrace_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job, url = unique("secured-script"), secured_server.url
    token = secured_server.tokens["ingest"]

    code, answer, _ = send(capsys, "start", "--url", url, "--token", token, "--job", job, "--run", "r1")
    assert (code, answer["accepted"]) == (0, 1)

    code, _, err = send(capsys, "finish", "--url", url, "--job", job, "--run", "r1", "status=failed")
    assert code == 2
    assert "401" in err

    assert secured_server.run(job, "r1")["status"] != "failed"


def test_url_and_token_come_from_the_environment(
    secured_server: Server,
    opentrace_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENTRACE_URL", secured_server.url)
    monkeypatch.setenv("OPENTRACE_TOKEN", secured_server.tokens["ingest"])
    job = unique("env-script")

    assert send(capsys, "start", "--job", job, "--run", "r1")[0] == 0

    assert secured_server.run(job, "r1")["status"] == "running"
