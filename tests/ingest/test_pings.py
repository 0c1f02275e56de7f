"""A cron job adopts OpenTrace with a one-line change: Healthchecks-style ping URLs, driven
with the real curl binary against a real server on 127.0.0.1, on SQLite and PostgreSQL."""

import asyncio
import os
import shlex
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ingest.context import INGEST
from ingest.pings import PING_BODY_LIMIT
from tests.conftest import Api, Clock, start_api

JOB = "nightly-backup"
CURL = shutil.which("curl")
CURL_SECONDS = 60.0
needs_curl = pytest.mark.skipif(CURL is None, reason="the curl binary is not installed")


def ping_url(api: Api, suffix: str = "", *, key: str | None = None, job: str = JOB) -> str:
    base = str(api.client.make_url("")).rstrip("/")
    return f"{base}/ping/{key or api.tokens['ingest']}/{job}{suffix}"


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


async def shell(command: str, cwd: Path) -> Done:
    """Run a command line as cron would, bounded; curl's config and proxies kept out."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["CURL_HOME"] = str(cwd)
    process = await asyncio.create_subprocess_shell(
        command, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CURL_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Done(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


async def curl(cwd: Path, *args: str) -> Done:
    assert CURL is not None
    return await shell(shlex.join([CURL, *args]), cwd)


async def curl_ok(cwd: Path, *args: str) -> Done:
    done = await curl(cwd, "-fsS", "-m", "10", "--retry", "5", *args)
    assert done.returncode == 0, done.stderr
    return done


async def runs(api: Api, job: str = JOB) -> list[dict[str, Any]]:
    body = await api.get_ok(f"/v1/jobs/{job}/runs")
    return body["runs"]  # type: ignore[no-any-return]


async def only_run(api: Api, job: str = JOB) -> dict[str, Any]:
    [run] = await runs(api, job)
    return await api.get_ok(f"/v1/jobs/{job}/runs/{run['run']}")  # type: ignore[no-any-return]


# --- the curl one-liners of a crontab ------------------------------------------------------


@needs_curl
async def test_the_cron_one_liner_records_a_succeeded_run(api: Api, tmp_path: Path) -> None:
    done = await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api))

    assert done.stdout == ""
    run = await only_run(api)
    assert run["status"] == "succeeded"
    assert run["started_at"] == run["finished_at"] == "2026-11-25T06:00:00Z"
    assert run["duration_seconds"] == 0
    assert run["attributes"]["source"] == "ping"
    assert run["attributes"]["user_agent"].startswith("curl/")
    assert run["attributes"]["remote_addr"] == "127.0.0.1"


@needs_curl
async def test_a_failing_job_sends_its_log_tail_and_the_run_fails_with_it(
    api: Api, tmp_path: Path
) -> None:
    (tmp_path / "log").write_text("".join(f"line {i}\n" for i in range(1, 101)))
    command = (f'{CURL} -fsS -m 10 --retry 5 --data-raw "$(tail -n 20 log)" '
               f"{shlex.quote(ping_url(api, '/fail'))}")

    done = await shell(command, tmp_path)

    assert (done.returncode, done.stdout) == (0, "OK"), done.stderr
    run = await only_run(api)
    assert run["status"] == "failed"
    assert run["notes"] == [{"level": "error", "at": "2026-11-25T06:00:00Z",
                             "text": "\n".join(f"line {i}" for i in range(81, 101))}]


@needs_curl
async def test_curl_head_gets_ok_headers_and_records_the_ping(api: Api, tmp_path: Path) -> None:
    done = await curl_ok(tmp_path, "-I", ping_url(api))

    headers = done.stdout.lower()
    assert headers.startswith("http/1.1 200 ok")
    assert f"ping-body-limit: {PING_BODY_LIMIT}" in headers
    assert "content-type: text/plain" in headers
    assert (await only_run(api))["status"] == "succeeded"


@needs_curl
async def test_start_then_success_pair_into_one_run_with_its_duration(
    api: Api, clock: Clock, tmp_path: Path
) -> None:
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, "/start"))
    assert (await only_run(api))["status"] == "running"
    clock.advance(minutes=7)

    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api))

    run = await only_run(api)
    assert run["status"] == "succeeded"
    assert run["duration_seconds"] == 7 * 60
    assert [e["kind"] for e in run["events"]] == ["start", "finish"]
    assert run["attributes"]["source"] == "ping"


@needs_curl
async def test_rid_pairs_each_finish_with_its_own_start_when_runs_overlap(
    api: Api, clock: Clock, tmp_path: Path
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"/start?rid={first}"))
    clock.advance(minutes=1)
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"/start?rid={second}"))
    clock.advance(minutes=4)

    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"/1?rid={first}"))

    by_key = {r["run"]: r for r in await runs(api)}
    assert by_key[str(first)]["status"] == "failed"
    assert by_key[str(first)]["duration_seconds"] == 5 * 60
    assert by_key[str(second)]["status"] == "running"


@needs_curl
async def test_an_uppercase_rid_names_the_same_run(api: Api, tmp_path: Path) -> None:
    rid = uuid.uuid4()
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"/start?rid={str(rid).upper()}"))

    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"?rid={rid}"))

    run = await only_run(api)
    assert (run["run"], run["status"]) == (str(rid), "succeeded")


@needs_curl
@pytest.mark.parametrize(("code", "status"), [("0", "succeeded"), ("1", "failed"), ("255", "failed")])
async def test_the_exit_status_decides_the_runs_status(
    api: Api, tmp_path: Path, code: str, status: str
) -> None:
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, "/start"))

    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, f"/{code}"))

    run = await only_run(api)
    assert (run["status"], run["summary"]) == (status, f"exit status {code}")


@needs_curl
async def test_a_log_ping_adds_a_note_and_leaves_the_run_open(api: Api, tmp_path: Path) -> None:
    await curl_ok(tmp_path, "-o", "/dev/null", ping_url(api, "/start"))

    await curl_ok(tmp_path, "-o", "/dev/null", "--data-raw", "disk at 91%", ping_url(api, "/log"))

    run = await only_run(api)
    assert run["status"] == "running"
    assert [(n["level"], n["text"]) for n in run["notes"]] == [("info", "disk at 91%")]


@needs_curl
async def test_a_100_kb_body_is_taken_and_cut_to_the_stated_limit(api: Api, tmp_path: Path) -> None:
    body = "".join(f"{i:07d} é\n" for i in range(100 * 1024 // 10)).encode()
    (tmp_path / "body").write_bytes(body)

    done = await curl_ok(tmp_path, "--data-binary", "@body", ping_url(api, "/fail"))

    assert done.stdout == "OK"
    [note] = (await only_run(api))["notes"]
    stored = note["text"].encode()
    assert len(stored) <= PING_BODY_LIMIT
    assert body.startswith(stored) and len(stored) >= PING_BODY_LIMIT - 3  # cut inside no "é"


@needs_curl
async def test_an_unknown_key_is_not_found_and_nothing_is_stored(api: Api, tmp_path: Path) -> None:
    before = await api.stored()

    for key in ("ot_not-a-token", api.tokens["read"]):
        done = await curl(tmp_path, "-sS", "-m", "10", "-w", "%{http_code}", "--data-raw", "x",
                          ping_url(api, "/start", key=key))
        assert done.stdout == "not found404"

    assert await api.stored() == before


@needs_curl
async def test_exit_status_256_is_a_bad_request_and_nothing_is_stored(
    api: Api, tmp_path: Path
) -> None:
    before = await api.stored()

    done = await curl(tmp_path, "-fsS", "-m", "10", "-o", "/dev/null", ping_url(api, "/256"))

    assert done.returncode == 22 and "400" in done.stderr
    assert await api.stored() == before


# --- the same URLs through a plain HTTP client -----------------------------------------------

SUFFIXES = ["", "/start", "/fail", "/log", "/0", "/42", "?create=1", "/start?create=1&rid=" + "1" * 32]


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
@pytest.mark.parametrize("suffix", SUFFIXES)
async def test_every_ping_url_answers_head_get_and_post_like_healthchecks(
    api: Api, method: str, suffix: str
) -> None:
    response = await api.client.request(method, path(api, suffix))

    assert response.status == 200
    assert await response.text() == ("" if method == "HEAD" else "OK")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Ping-Body-Limit"] == str(PING_BODY_LIMIT)
    assert response.headers["Cache-Control"] == "no-store"
    assert await runs(api)


async def test_a_success_with_no_open_run_is_a_one_off_run_started_and_finished_at_once(
    api: Api,
) -> None:
    response = await api.client.post(path(api, "/fail"), data=b"out of memory")

    assert response.status == 200
    run = await only_run(api)
    assert run["status"] == "failed"
    assert run["started_at"] == run["finished_at"]
    assert [e["kind"] for e in run["events"]] == ["start", "note", "finish"]


async def test_a_second_success_does_not_reopen_the_finished_run(api: Api, clock: Clock) -> None:
    await api.client.get(path(api, "/start"))
    await api.client.get(path(api, ""))
    clock.advance(hours=24)

    await api.client.get(path(api, ""))

    assert [r["status"] for r in await runs(api)] == ["succeeded", "succeeded"]


async def test_a_log_ping_between_runs_goes_to_the_latest_run_and_keeps_its_state(
    api: Api, clock: Clock
) -> None:
    await api.client.get(path(api, "/1"))
    clock.advance(hours=1)

    response = await api.client.post(path(api, "/log"), data=b"cleaned up by hand")

    assert response.status == 200
    run = await only_run(api)
    assert run["status"] == "failed"
    assert [n["text"] for n in run["notes"]] == ["cleaned up by hand"]
    job = next(j for j in (await api.get_ok("/v1/jobs"))["jobs"] if j["job"] == JOB)
    assert job["state"] == "failed"


async def test_a_log_ping_from_a_job_that_never_ran_is_kept_in_a_one_off_run(api: Api) -> None:
    await api.client.post(path(api, "/log"), data=b"first contact")

    run = await only_run(api)
    assert (run["status"], run["summary"]) == ("succeeded", "log ping")
    assert [n["text"] for n in run["notes"]] == ["first contact"]


async def test_invalid_utf8_is_kept_with_replacement_characters(api: Api) -> None:
    await api.client.post(path(api, "/log"), data=b"caf\xe9 \xff\x00ok")

    assert [n["text"] for n in (await only_run(api))["notes"]] == ["caf\ufffd \ufffd\ufffdok"]


async def test_a_character_cut_by_the_limit_is_left_out(api: Api) -> None:
    body = b"a" * (PING_BODY_LIMIT - 1) + "é".encode() + b"tail"

    await api.client.post(path(api, "/log"), data=body)

    [note] = (await only_run(api))["notes"]
    assert note["text"] == "a" * (PING_BODY_LIMIT - 1)


async def test_a_body_of_megabytes_is_not_refused(api: Api) -> None:
    response = await api.client.post(path(api, "/fail"), data=b"x" * (8 * 1024 * 1024))

    assert response.status == 200
    [note] = (await only_run(api))["notes"]
    assert note["text"] == "x" * PING_BODY_LIMIT


@pytest.mark.parametrize(("suffix", "job", "message"), [
    ("/256", JOB, "invalid url format"),
    ("/-1", JOB, "invalid url format"),
    ("/success", JOB, "invalid url format"),
    ("/" + "9" * 5000, JOB, "invalid url format"),
    ("", "Nightly-Backup", "invalid url format"),
    ("", "x" * 129, "invalid url format"),
    ("?rid=not-a-uuid", JOB, "invalid uuid format"),
])
async def test_a_malformed_ping_url_is_a_bad_request_and_nothing_is_stored(
    api: Api, suffix: str, job: str, message: str
) -> None:
    before = await api.stored()

    response = await api.client.post(path(api, suffix, job=job), data=b"body")

    assert response.status == 400
    assert (await response.text()).startswith(message)
    assert await api.stored() == before


async def test_the_key_is_checked_before_the_url(api: Api) -> None:
    response = await api.client.get(path(api, "/256", key="ot_unknown"))

    assert (response.status, await response.text()) == (404, "not found")


async def test_an_admin_token_may_ping_too(api: Api) -> None:
    response = await api.client.get(path(api, "", key=api.tokens["admin"]))

    assert response.status == 200


async def test_with_auth_off_any_key_is_accepted(database_url: str, clock: Clock) -> None:
    api = await start_api(database_url, clock, auth=False)
    try:
        response = await api.client.get(path(api, "/start", key="anything"))
        assert response.status == 200
        assert (await only_run(api))["status"] == "running"
    finally:
        await api.client.close()


async def test_storage_unavailable_is_503(api: Api) -> None:
    app = api.client.app
    assert app is not None
    await app[INGEST].writer.close()

    response = await api.client.get(path(api, ""))

    assert response.status == 503
    assert "Retry-After" in response.headers


def path(api: Api, suffix: str, *, key: str | None = None, job: str = JOB) -> str:
    return f"/ping/{key or api.tokens['ingest']}/{job}{suffix}"
