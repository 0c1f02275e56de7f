"""A batch job reports what it does with `import opentrace`, and telemetry never breaks it."""

import json
import logging
import math
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import opentrace
from ingest.client import Client, make_event
from tests.ingest.conftest import Server, rejected_events, spooled_events, unique
from tests.serving import free_port


def kinds(stored: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in stored["events"]]


def test_a_run_records_its_milestones_metrics_notes_progress_payloads_and_durations(
    server: Server, spool_path: Path
) -> None:
    job = unique("nightly-import")

    with opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r:
        r.milestone("file-read")
        r.metric("rows_skipped", 40, unit="rows")
        r.note("3 rows had no price", level="warning")
        r.progress(50, 100, unit="rows", stage="matching")
        r.payload("input-file", {"path": "/in/products.csv", "rows": 100})
        r.duration("matching", 12.5)

    stored = server.run(job, r.key)
    assert stored["status"] == "succeeded"
    assert [m["name"] for m in stored["milestones"]] == ["file-read"]
    assert stored["metrics"]["rows_skipped"]["value"] == 40
    assert stored["metrics"]["rows_skipped"]["unit"] == "rows"
    assert [(n["text"], n["level"]) for n in stored["notes"]] == [("3 rows had no price", "warning")]
    assert stored["progress"]["done"] == 50
    assert stored["progress"]["stage"] == "matching"
    assert stored["payloads"][0]["data"] == {"path": "/in/products.csv", "rows": 100}
    assert [(d["name"], d["seconds"]) for d in stored["durations"]] == [("matching", 12.5)]
    assert kinds(stored)[0] == "start" and kinds(stored)[-1] == "finish"
    assert not spool_path.exists() or spooled_events(spool_path) == []


def test_the_start_event_says_which_host_user_and_process_ran_the_job(
    server: Server, spool_path: Path
) -> None:
    job = unique("attributes")

    with opentrace.run(
        job, client=Client(server.url, spool_path=spool_path), attributes={"input": "x.csv"}
    ) as r:
        pass

    attributes = server.run(job, r.key)["events"][0]["attributes"]
    assert attributes["trigger"] == "python"
    assert attributes["input"] == "x.csv"
    assert {"host", "user", "pid", "command"} <= attributes.keys()


def test_a_job_that_raises_is_recorded_as_failed_with_the_exception_text(
    server: Server, spool_path: Path
) -> None:
    job = unique("failing-import")
    error = ValueError("row 12 has no price")

    with (
        pytest.raises(ValueError) as raised,
        opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r,
    ):
        r.milestone("file-read")
        raise error

    assert raised.value is error
    stored = server.run(job, r.key)
    assert stored["status"] == "failed"
    finish = stored["events"][-1]
    assert finish["kind"] == "finish"
    assert finish["text"] == "ValueError: row 12 has no price"
    traceback_note = stored["notes"][-1]
    assert traceback_note["level"] == "error"
    assert "raise error" in traceback_note["text"]


def test_an_explicit_finish_is_the_one_recorded(server: Server, spool_path: Path) -> None:
    job = unique("partial-import")

    with opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r:
        r.finish("partial", text="2 of 3 files imported")

    stored = server.run(job, r.key)
    assert stored["status"] == "partial"
    assert kinds(stored).count("finish") == 1
    assert stored["events"][-1]["text"] == "2 of 3 files imported"


def test_an_interrupted_job_is_recorded_as_cancelled(server: Server, spool_path: Path) -> None:
    job = unique("interrupted")

    with (
        pytest.raises(KeyboardInterrupt),
        opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r,
    ):
        raise KeyboardInterrupt

    assert server.run(job, r.key)["status"] == "cancelled"


def test_a_stopped_server_costs_the_job_at_most_the_timeout_and_events_are_spooled(
    unused_url: str, spool_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(unused_url, timeout=2.0, spool_path=spool_path)
    started = time.monotonic()

    with (
        caplog.at_level(logging.WARNING, logger="opentrace.client"),
        opentrace.run("nightly-import", client=client) as r,
    ):
        for number in range(20):
            r.metric("rows", number)
        r.note("done")

    assert time.monotonic() - started < client.timeout
    events = spooled_events(spool_path)
    assert [e["kind"] for e in events] == ["start", *["metric"] * 20, "note", "finish"]
    assert {e["run"] for e in events} == {r.key}
    assert len({e["id"] for e in events}) == len(events)
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert len(caplog.records) == 1, "one warning per back-off window, not one per event"
    assert "unavailable" in caplog.records[0].getMessage()


def test_a_slow_server_is_bounded(silent_url: str, spool_path: Path) -> None:
    client = Client(silent_url, timeout=0.5, spool_path=spool_path)
    started = time.monotonic()

    with opentrace.run("nightly-import", client=client) as r:
        for number in range(20):
            r.metric("rows", number)

    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 1.5, "one attempt waits for the timeout, then the back-off skips"
    assert len(spooled_events(spool_path)) == 22


def test_spooled_events_are_delivered_on_the_next_successful_call_exactly_once(
    make_server: Any, spool_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    job = unique("offline-import")
    with opentrace.run(job, client=Client(url, spool_path=spool_path)) as earlier:
        earlier.metric("rows", 10)
    assert len(spooled_events(spool_path)) == 3

    server: Server = make_server(port)
    for process in ("next", "and the one after"):  # each with its own client, like a new job
        note = make_event("note", job, earlier.key, {"text": process, "level": "info"})
        assert Client(url, spool_path=spool_path).send([note])

    stored = server.run(job, earlier.key)
    assert kinds(stored) == ["start", "metric", "finish", "note", "note"]
    assert stored["status"] == "succeeded"
    assert spooled_events(spool_path) == []


def test_an_event_delivered_twice_is_stored_once(server: Server, spool_path: Path) -> None:
    """An attempt that timed out may still have reached the server: the spooled copy
    that follows must not count twice."""
    job = unique("idempotent")
    events = [
        make_event("start", job, "r1", {"attributes": {}}),
        make_event("metric", job, "r1", {"name": "rows", "value": 5}),
    ]
    client = Client(server.url, spool_path=spool_path)
    assert client.send(events)
    assert client.spool(events)

    assert client.send([make_event("finish", job, "r1", {"status": "succeeded"})])

    assert kinds(server.run(job, "r1")) == ["start", "metric", "finish"]
    assert spooled_events(spool_path) == []


def test_a_big_spool_is_sent_in_batches_the_server_accepts(server: Server, spool_path: Path) -> None:
    job = unique("big-spool")
    client = Client(server.url, timeout=20, spool_path=spool_path)
    metrics = [make_event("metric", job, "r1", {"name": f"m{i % 7}", "value": i}) for i in range(2500)]
    client.spool([make_event("start", job, "r1", {"attributes": {}}), *metrics])

    assert client.send([make_event("finish", job, "r1", {"status": "succeeded"})])

    stored = server.run(job, "r1")
    assert len(stored["events"]) == 2502
    assert stored["status"] == "succeeded"


def test_spooled_events_the_server_refuses_go_to_the_rejected_file_and_the_rest_is_delivered(
    server: Server, spool_path: Path
) -> None:
    job = unique("bad-events")
    client = Client(server.url, spool_path=spool_path)
    client.spool(
        [
            make_event("start", job, "r1", {"attributes": {}}),
            make_event("metric", job, "r1", {"name": "rows", "value": "many"}),
            make_event("payload", job, "r1", {"name": "huge", "data": "x" * 2_000_000}),
            make_event("metric", job, "r1", {"name": "rows", "value": 7}),
        ]
    )

    assert client.send([make_event("finish", job, "r1", {"status": "succeeded"})])

    stored = server.run(job, "r1")
    assert kinds(stored) == ["start", "metric", "finish"]
    assert stored["metrics"]["rows"]["value"] == 7
    invalid, too_large = rejected_events(spool_path)
    assert invalid["event"]["value"] == "many"
    assert "422" in invalid["reason"] and "value" in invalid["reason"]
    assert too_large["event"]["name"] == "huge" and "413" in too_large["reason"]
    assert spooled_events(spool_path) == []


def test_events_spooled_for_another_server_are_left_for_it(
    server: Server, unused_url: str, spool_path: Path
) -> None:
    job = unique("other-server")
    Client(unused_url, spool_path=spool_path).spool([make_event("start", job, "r1", {"attributes": {}})])

    assert Client(server.url, spool_path=spool_path).send(
        [make_event("start", job, "r2", {"attributes": {}})]
    )

    assert [e["run"] for e in spooled_events(spool_path)] == ["r1"]


def test_a_refused_token_warns_once_and_keeps_the_events_for_inspection(
    secured_server: Server, spool_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(secured_server.url, token="not-a-token", spool_path=spool_path)
    started = time.monotonic()

    with (
        caplog.at_level(logging.WARNING, logger="opentrace.client"),
        opentrace.run(unique("bad-token"), client=client) as r,
    ):
        for number in range(10):
            r.metric("rows", number)

    assert time.monotonic() - started < client.timeout
    assert len(caplog.records) == 1
    assert "refused the token" in caplog.records[0].getMessage()
    assert [row["event"]["kind"] for row in rejected_events(spool_path)] == ["start"]
    assert "401" in rejected_events(spool_path)[0]["reason"]
    assert len(spooled_events(spool_path)) == 11, "no retry until the back-off ends"


def test_with_an_ingest_token_the_run_is_stored(secured_server: Server, spool_path: Path) -> None:
    job = unique("secured")
    client = Client(secured_server.url, token=secured_server.tokens["ingest"], spool_path=spool_path)

    with opentrace.run(job, client=client) as r:
        r.milestone("file-read")

    assert secured_server.run(job, r.key)["status"] == "succeeded"


def test_values_json_cannot_carry_do_not_break_the_job(server: Server, spool_path: Path) -> None:
    job = unique("odd-values")
    looped: dict[str, Any] = {}
    looped["self"] = looped

    with opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r:
        r.metric("ratio", math.nan)
        r.metric("price", Decimal("12.50"))  # type: ignore[arg-type]
        r.payload("input", {"path": Path("/in/x.csv"), "rows": Decimal("3"), "bad": math.inf})
        r.note("x" * 5000)
        r.payload("looped", looped)

    stored = server.run(job, r.key)
    assert stored["status"] == "succeeded"
    assert stored["metrics"]["price"]["value"] == 12.5
    assert stored["payloads"][0]["data"] == {"path": "/in/x.csv", "rows": 3.0, "bad": None}
    assert stored["payloads"][1]["data"] == "{'self': {...}}"
    assert len(stored["notes"][0]["text"]) == 4000
    [rejected] = rejected_events(spool_path)
    assert rejected["event"]["name"] == "ratio" and rejected["event"]["value"] is None


def test_progress_can_be_reported_for_every_row_without_flooding_the_server(
    server: Server, spool_path: Path
) -> None:
    job = unique("progress")
    started = time.monotonic()

    with opentrace.run(job, client=Client(server.url, spool_path=spool_path)) as r:
        for row in range(1, 5001):
            r.progress(row, unit="rows")

    assert time.monotonic() - started < 3
    stored = server.run(job, r.key)
    assert kinds(stored).count("progress") <= 4
    assert stored["progress"]["done"] == 5000, "the last update is kept"


def test_client_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENTRACE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("OPENTRACE_TOKEN", "secret")
    monkeypatch.setenv("OPENTRACE_SPOOL", str(tmp_path / "s.jsonl"))
    monkeypatch.setenv("OPENTRACE_CLIENT_TIMEOUT", "0.25")

    client = Client()

    assert client.url == "http://127.0.0.1:9"
    assert client.timeout == 0.25
    assert client.spool_path == tmp_path / "s.jsonl"
    assert client.rejected_path == tmp_path / "s.jsonl.rejected"


def test_the_spool_defaults_to_the_users_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENTRACE_SPOOL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    assert Client().spool_path == tmp_path / "opentrace" / "spool.jsonl"


SPOOL_WRITER = """
import sys
from ingest.client import Client, make_event
url, spool, name = sys.argv[1:]
client = Client(url, spool_path=spool)
for number in range(200):
    client.spool([make_event("metric", "shared", name, {"name": "n", "value": number})])
"""


def test_several_processes_on_one_host_can_share_the_spool(unused_url: str, spool_path: Path) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", SPOOL_WRITER, unused_url, str(spool_path), f"p{n}"])
        for n in range(4)
    ]
    for writer in writers:
        assert writer.wait(timeout=60) == 0

    events = spooled_events(spool_path)
    assert len(events) == 800
    for name in ("p0", "p1", "p2", "p3"):
        assert [e["value"] for e in events if e["run"] == name] == list(range(200))
    assert all(json.dumps(e) for e in events)


DRAINER = """
import sys
from ingest.client import Client, make_event
url, spool, job = sys.argv[1:]
event = make_event("note", job, "r1", {"text": "from another process", "level": "info"})
sys.exit(0 if Client(url, spool_path=spool, timeout=20).send([event]) else 1)
"""


def test_processes_draining_one_spool_at_once_deliver_each_event_once(
    server: Server, spool_path: Path
) -> None:
    job = unique("shared-drain")
    start = make_event("start", job, "r1", {"attributes": {}})
    metrics = [make_event("metric", job, "r1", {"name": "n", "value": n}) for n in range(300)]
    Client(server.url, spool_path=spool_path).spool([start, *metrics])

    drainers = [
        subprocess.Popen([sys.executable, "-c", DRAINER, server.url, str(spool_path), job]) for _ in range(3)
    ]
    assert [drainer.wait(timeout=60) for drainer in drainers] == [0, 0, 0]

    stored = server.run(job, "r1")
    assert kinds(stored) == ["start", *["metric"] * 300, *["note"] * 3]
    assert spooled_events(spool_path) == []
