"""Every copy-pasteable example in the README runs, as written, against a real server."""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.serving import free_port, opentrace_command, wait_for_health

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.DOTALL)
EXAMPLES = {name: (language, code) for name, language, code in EXAMPLE.findall(README.read_text())}


@dataclass
class Server:
    url: str
    env: dict[str, str]
    workdir: Path

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.url + path,
                                         headers={"Authorization": f"Bearer {self.env['TOKEN']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("readme")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENTRACE_", "OPENLINEAGE"))}
    env["OPENTRACE_DATABASE_URL"] = f"sqlite:///{workdir / 'ot.db'}"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(workdir)  # the client's spool, and nothing from the real home
    log = workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([*opentrace_command(), "serve", "--port", str(port)], env=env,
                                   cwd=workdir, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process)
        [token] = re.findall(r"^\s+(ot_\S+)$", log.read_text(), re.MULTILINE)
        ingest = subprocess.run([*opentrace_command(), "token", "create", "cron", "--scope",
                                 "ingest"], env=env, cwd=workdir, capture_output=True, text=True,
                                timeout=60, check=True).stdout.split()[-1]
        shutil.copy(README, workdir / "README.md")  # the examples run in a clone's root
        yield Server(url, {**env, "TOKEN": token, "OT_KEY": ingest, "OPENTRACE_URL": url,
                           "OPENTRACE_TOKEN": token}, workdir)
    finally:
        process.terminate()
        process.wait(timeout=20)


def run_example(server: Server, name: str) -> subprocess.CompletedProcess[str]:
    language, code = EXAMPLES[name]
    code = code.replace("http://127.0.0.1:8080", server.url)
    command = ["bash", "-e", "-c", code] if language == "sh" else [sys.executable, "-c", code]
    result = subprocess.run(command, env=server.env, cwd=server.workdir, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_readme_shows_every_way_in() -> None:
    assert set(EXAMPLES) == {"first-curl", "contract", "client", "send", "exec", "pings",
                             "openlineage", "define"}


def test_the_first_curl_reports_a_whole_run_and_leaves_nothing_running(server: Server) -> None:
    run_example(server, "first-curl")

    runs = server.get("/v1/jobs/nightly-product-import/runs")["runs"]
    assert [run["status"] for run in runs] == ["succeeded"]


def test_the_contract_example_reports_a_whole_run(server: Server) -> None:
    output = run_example(server, "contract").stdout

    assert output.count('"accepted": 1') == 5
    latest = server.get("/v1/jobs/nightly-product-import/runs?limit=1")["runs"][0]
    run = server.get(f"/v1/jobs/nightly-product-import/runs/{latest['run']}")
    assert run["status"] == "partial"
    assert run["metrics"]["rows_skipped"]["value"] == 8911
    assert [m["name"] for m in run["milestones"]] == ["file-read"]


def test_the_client_example_reports_a_succeeded_run(server: Server) -> None:
    run_example(server, "client")

    latest = server.get("/v1/jobs/nightly-product-import/runs?limit=1")["runs"][0]
    run = server.get(f"/v1/jobs/nightly-product-import/runs/{latest['run']}")
    assert run["status"] == "succeeded"
    assert run["progress"]["stage"] == "matching"


def test_the_send_example_reports_a_run(server: Server) -> None:
    run_example(server, "send")

    latest = server.get("/v1/jobs/nightly-product-import/runs?limit=1")["runs"][0]
    run = server.get(f"/v1/jobs/nightly-product-import/runs/{latest['run']}")
    assert run["status"] == "succeeded"
    assert run["payloads"][0]["data"] == {"path": "/data/products.csv"}


def test_the_exec_example_wraps_a_command(server: Server) -> None:
    result = run_example(server, "exec")

    assert "README.md" in result.stdout  # tar -v's output, passed through
    runs = server.get("/v1/jobs/nightly-backup/runs")["runs"]
    run = server.get(f"/v1/jobs/nightly-backup/runs/{runs[0]['run']}")
    assert run["status"] == "succeeded"
    assert "README.md" in run["notes"][-1]["text"]


def test_the_ping_examples_record_runs(server: Server) -> None:
    before = len(server.get("/v1/jobs/nightly-backup/runs")["runs"])

    run_example(server, "pings")

    runs = server.get("/v1/jobs/nightly-backup/runs")["runs"]
    assert len(runs) == before + 2  # start + success pair up; the exit-status ping is its own
    assert {r["status"] for r in runs[:2]} == {"succeeded"}


def test_the_openlineage_example_lands_as_a_run(server: Server) -> None:
    run_example(server, "openlineage")

    job = server.get("/v1/jobs/etl-product_import")
    runs = server.get("/v1/jobs/etl-product_import/runs")["runs"]
    run = server.get(f"/v1/jobs/etl-product_import/runs/{runs[0]['run']}")
    assert job["title"] == "product_import"
    assert run["status"] == "succeeded"
    assert "/data/supplier/products.csv" in json.dumps(run["payloads"])


def test_the_definition_example_sets_expectations(server: Server) -> None:
    run_example(server, "define")

    job = server.get("/v1/jobs/nightly-product-import")
    assert job["schedule"] == "10 0 * * *"
    assert job["expect"]["milestones"] == [{"name": "report-published", "by": "5h50m"}]
    assert job["alert"] == ["Sales"]
