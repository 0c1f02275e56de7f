"""A newcomer starts the server with one command and can curl straight away."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.serving import free_port, opentrace_command, wait_for_health


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*opentrace_command(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    return {**clean, "OPENTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'ot.db'}"}


class Server:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*opentrace_command(), "serve", "--port", str(self.port)], env=env, cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wait_for_health(self.url, self.process)

    def stop(self) -> str:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=20)
        return output


def post(url: str, body: bytes, token: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{url}/v1/events", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


EVENT = b'{"job": "nightly-import", "kind": "start"}'


def test_the_first_start_prints_an_admin_token_once(env: dict[str, str], tmp_path: Path) -> None:
    first = Server(env, tmp_path)
    time.sleep(0.2)
    output = first.stop()
    tokens = [line.strip() for line in output.splitlines() if line.strip().startswith("ot_")]
    assert len(tokens) == 1, output

    second = Server(env, tmp_path)
    try:
        assert post(second.url, EVENT, tokens[0]) == 202
        assert post(second.url, EVENT, None) == 401
    finally:
        again = second.stop()
    assert "ot_" not in again


def test_token_create_list_and_revoke(env: dict[str, str], tmp_path: Path) -> None:
    created = cli("token", "create", "etl-host", "--scope", "ingest", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    env = {**env, "OPENTRACE_TOKEN_CACHE_SECONDS": "0"}
    server = Server(env, tmp_path)
    try:
        assert post(server.url, EVENT, token) == 202
        listing = cli("token", "list", env=env, cwd=tmp_path)
        assert "etl-host\tingest" in listing.stdout
        assert token not in listing.stdout
        assert cli("token", "revoke", "etl-host", env=env, cwd=tmp_path).returncode == 0
        assert post(server.url, EVENT, token) == 401
    finally:
        server.stop()


def test_auth_off_serves_without_tokens(env: dict[str, str], tmp_path: Path) -> None:
    server = Server({**env, "OPENTRACE_AUTH": "off"}, tmp_path)
    try:
        assert post(server.url, EVENT, None) == 202
    finally:
        output = server.stop()
    assert "ot_" not in output


def test_a_bad_setting_stops_the_server_with_a_clear_message(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = cli("serve", env={**env, "OPENTRACE_AUTH": "sometimes"}, cwd=tmp_path)

    assert result.returncode == 2
    assert "OPENTRACE_AUTH" in result.stderr


def test_the_default_database_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path,
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    server = Server(clean, tmp_path)
    server.stop()

    assert (tmp_path / "opentrace.db").exists()


def test_the_module_entry_point_works_too(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "opentrace", "--help"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0 and "serve" in result.stdout


def test_token_and_definition_changes_on_the_command_line_are_audited(
    env: dict[str, str], tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("nightly-import:\n  title: Nightly import\n  owner: data-team\n")
    cli("token", "create", "ci-jobs", "--scope", "ingest", env=env, cwd=tmp_path)
    cli("token", "revoke", "ci-jobs", env=env, cwd=tmp_path)
    cli("jobs", "apply", str(jobs), env=env, cwd=tmp_path)
    cli("jobs", "apply", str(jobs), env=env, cwd=tmp_path)  # unchanged: nothing to record

    everything = cli("audit", env={**env, "OPENTRACE_TIMEZONE": "Europe/Berlin"}, cwd=tmp_path)
    tokens_only = cli("audit", "--action", "token", env=env, cwd=tmp_path)
    bad = cli("audit", "--since", "last tuesday", env=env, cwd=tmp_path)

    lines = everything.stdout.splitlines()
    actions = [line.split()[3] for line in lines if line[:2] == "20"]
    assert actions == ["job.defined", "token.revoked", "token.created"]
    assert lines[0].split()[2] in ("CET", "CEST")  # in the server's zone, with its name
    assert "by cli " in lines[1] and "from command line on " in lines[1]
    assert '"owner": {"from": null, "to": "data-team"}' in lines[2]
    assert [line.split()[3] for line in tokens_only.stdout.splitlines() if line[:2] == "20"] == [
        "token.revoked", "token.created"]
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_the_log_has_one_line_per_request_and_no_scheduler_chatter(
    env: dict[str, str], tmp_path: Path
) -> None:
    token = cli("token", "create", "etl-host", "--scope", "ingest", env=env,
                cwd=tmp_path).stdout.strip().splitlines()[-1]
    server = Server({**env, "OPENTRACE_LOG_FORMAT": "json"}, tmp_path)
    try:
        statuses = [post(server.url, EVENT, token), post(server.url, EVENT, None)]
        pinged = urllib.request.urlopen(f"{server.url}/ping/{token}/nightly-backup", timeout=10)
        time.sleep(6)  # longer than the scheduler's routine interval
    finally:
        output = server.stop()

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "opentrace.access"]
    assert statuses == [202, 401] and pinged.status == 200
    assert [(r["method"], r["path"], r["status"], r["caller"]) for r in requests
            if r["path"] != "/healthz"] == [
        ("POST", "/v1/events", 202, "token etl-host"), ("POST", "/v1/events", 401, "-"),
        ("GET", "/ping/{ping_key}/{job}", 200, "-")]  # a ping URL's key is a token: not logged
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    assert not [line for line in lines if line["logger"].startswith("apscheduler")]
    assert token not in output


def test_asking_before_any_job_exists_says_so_and_how_to_get_some(tmp_path: Path) -> None:
    # No OPENTRACE_DATABASE_URL, as on a fresh install: ./opentrace.db in whatever directory
    # the command runs in — so the answer names the file, in case it is the wrong directory.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    asked = cli("ask", "has the import run today?", env=clean, cwd=elsewhere)

    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith(
        f"There are no jobs yet in the SQLite file {elsewhere / 'opentrace.db'}, so there is "
        "nothing to answer about.")
    for way in ("opentrace demo --keep", "POST /v1/events", "the README's first curl",
                "PUT /v1/jobs/<job>", "OPENTRACE_DATABASE_URL"):
        assert way in asked.stdout
    assert "I know ." not in asked.stdout


def test_once_a_job_is_defined_ask_answers_about_it(env: dict[str, str], tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("nightly-import:\n  title: Nightly import\n  aliases: [the import]\n")
    assert cli("jobs", "apply", str(jobs), env=env, cwd=tmp_path).returncode == 0

    asked = cli("ask", "has the import run today?", env=env, cwd=tmp_path)

    assert asked.returncode == 0, asked.stderr
    assert "no jobs yet" not in asked.stdout and "Nightly import" in asked.stdout


def test_a_database_is_named_without_its_password() -> None:
    from opentrace.cli import describe_database

    assert describe_database("postgresql://ot:secret@db:5432/ot") == "postgresql://ot:***@db:5432/ot"
