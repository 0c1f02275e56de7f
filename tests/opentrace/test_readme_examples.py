"""The README's first hour, walked as a newcomer walks it: every copy-pasteable command block,
in the order the README gives them, run as written against the server its first block starts —
on a free port (`OPENTRACE_PORT`, as the README offers when 8080 is taken), in a fresh
directory, without Teams credentials. `opentrace demo --keep` runs too, followed by exactly the
commands it prints.

A block is tagged `<!-- example: name -->`; a command block without a tag must be listed in
NOT_RUN with the reason, so a new block cannot slip past the walk."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.serving import free_port, opentrace_command, stop_process, wait_for_health

README = Path(__file__).resolve().parents[2] / "README.md"
TAG = re.compile(r"<!-- example: ([\w-]+) -->")
DEFAULT_URL = "http://127.0.0.1:8080"

# Command blocks the walk cannot run, by their first line, and why.
NOT_RUN = {
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && npm ci --prefix tests/node "
    "&& .venv/bin/python -m pytest":
        "it is this test suite; pip and npm need the network",
    "docker build -t opentrace . && docker run -p 8080:8080 -v opentrace-data:/data opentrace":
        "needs a Docker daemon and the network (test_deployment.py builds the image where a "
        "daemon answers)",
}
# The parts of the first block the walk does not run: they need the network. The walk uses
# this tree's installation instead.
RUN_IT_NOT_RUN = ["python3 -m venv .venv", ".venv/bin/pip install -q -e ."]


@dataclass(frozen=True)
class Block:
    name: str | None  # its example tag
    language: str  # an indented block is a shell command
    code: str
    line: int

    @property
    def first_line(self) -> str:
        return self.code.strip().splitlines()[0]


def code_blocks(text: str) -> list[Block]:
    """Every fenced and indented code block, with the tag on the line right before it."""
    lines, blocks, i, tag = text.splitlines(), [], 0, None
    while i < len(lines):
        line = lines[i]
        if TAG.fullmatch(line):
            tag = TAG.fullmatch(line)[1]  # type: ignore[index]
        elif line.startswith("```"):
            start, body = i, []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append(Block(tag, line[3:].strip() or "text", "\n".join(body) + "\n", start + 1))
            tag = None
        elif line.startswith("    ") and (not lines[i - 1].strip() or TAG.fullmatch(lines[i - 1])):
            start, body = i, []
            while i < len(lines) and (lines[i].startswith("    ") or (not lines[i].strip()
                                      and i + 1 < len(lines) and lines[i + 1].startswith("    "))):
                body.append(lines[i][4:])
                i += 1
            blocks.append(Block(tag, "sh", "\n".join(body).rstrip() + "\n", start + 1))
            tag = None
            continue
        elif line.strip():
            tag = None  # a tag belongs to the block right below it
        i += 1
    return blocks


TEXT = README.read_text()
BLOCKS = code_blocks(TEXT)


def inline(command: str) -> str:
    """A command the README's prose gives in backticks; it must still be there, as written."""
    assert f"`{command}`" in TEXT, f"the README no longer says `{command}`"
    return command


@dataclass
class Walk:
    """One newcomer's shell: a fresh directory, the venv's `opentrace` on PATH, and the server
    the first block started."""

    workdir: Path
    env: dict[str, str]
    url: str = ""

    def shell(self, code: str, what: str, **env: str) -> str:
        code = code.replace(DEFAULT_URL, self.url)
        result = subprocess.run(["bash", "-e", "-c", code], env={**self.env, **env},
                                cwd=self.workdir, capture_output=True, text=True, timeout=180,
                                check=False)
        assert result.returncode == 0, f"{what}:\n{code}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def python(self, code: str, what: str) -> str:
        result = subprocess.run([sys.executable, "-c", code], env=self.env, cwd=self.workdir,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"{what}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.url + path,
                                         headers={"Authorization": f"Bearer {self.env['TOKEN']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def latest_run(self, job: str) -> dict[str, Any]:
        latest = self.get(f"/v1/jobs/{job}/runs?limit=1")["runs"][0]
        run: dict[str, Any] = self.get(f"/v1/jobs/{job}/runs/{latest['run']}")
        return run


@pytest.fixture
def walk(tmp_path: Path) -> Iterator[Walk]:
    workdir = tmp_path / "clone"
    workdir.mkdir()
    shutil.copy(README, workdir / "README.md")  # the examples run in a clone's root
    bin_dir = workdir / ".venv" / "bin"  # what the first block's venv would hold
    bin_dir.mkdir(parents=True)
    wrapper = bin_dir / "opentrace"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(opentrace_command())} \"$@\"\n")
    wrapper.chmod(0o755)
    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENTRACE_", "OPENLINEAGE", "MicrosoftApp"))}
    env.update({
        # `. .venv/bin/activate`, as the README says, so that `opentrace` is on PATH
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "HOME": str(tmp_path),  # the client's spool, and nothing from the real home
        "TMPDIR": str(tmp_path / "tmp"),  # where `opentrace demo --keep` keeps its database
    })
    yield Walk(workdir, env)


def run_it(walk: Walk, block: Block) -> Iterator[None]:
    """The first block: the part that needs no network, on a port that is free."""
    *setup, serve = [part.strip() for part in block.code.strip().split("&&")]
    assert setup == RUN_IT_NOT_RUN and serve == ".venv/bin/opentrace serve"
    port = free_port()
    log = walk.workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=walk.workdir,
                                   env={**walk.env, "OPENTRACE_PORT": str(port)}, stdout=out,
                                   stderr=subprocess.STDOUT, text=True)
    try:
        walk.url = f"http://127.0.0.1:{port}"
        wait_for_health(walk.url, process, output=log.read_text)
        # "The first start prints an admin token, once. ... export TOKEN=<that token>"
        [token] = re.findall(r"^\s+(ot_\S+)$", log.read_text(), re.MULTILINE)
        walk.env["TOKEN"] = token
        # The Python client's comment: it reads OPENTRACE_URL and OPENTRACE_TOKEN.
        walk.env.update({"OPENTRACE_URL": walk.url, "OPENTRACE_TOKEN": token})
        assert (walk.workdir / "opentrace.db").exists()  # "everything in ./opentrace.db"
        yield
    finally:
        stop_process(process)


def first_curl(walk: Walk, block: Block) -> None:
    walk.shell(block.code, "first-curl")

    runs = walk.get("/v1/jobs/nightly-product-import/runs")["runs"]
    assert [run["status"] for run in runs] == ["succeeded"]

    # The paragraph after it: the demo, kept, ends with the commands to ask about it.
    told = walk.shell(inline("opentrace demo --keep"), "opentrace demo --keep")
    printed = told.split("The database is kept.", 1)[1].splitlines()[1:]
    commands = [line.strip() for line in printed if line.startswith("  ")]
    assert len(commands) == 3, told
    answers = walk.shell("\n".join(commands), "the commands opentrace demo --keep printed")
    assert "ended early" in answers and "8,911" in answers
    # They asked the demo's database; the shell still points at the newcomer's own.
    assert "There are no jobs yet" not in answers
    assert "etl-hosts" not in walk.shell("opentrace token list", "token list")


def contract(walk: Walk, block: Block) -> None:
    output = walk.shell(block.code, "contract")

    assert output.count('"accepted": 1') == 5
    run = walk.latest_run("nightly-product-import")
    assert run["status"] == "partial"
    assert run["metrics"]["rows_skipped"]["value"] == 8911
    assert [m["name"] for m in run["milestones"]] == ["file-read"]


def client(walk: Walk, block: Block) -> None:
    walk.python(block.code, "client")

    run = walk.latest_run("nightly-product-import")
    assert run["status"] == "succeeded"
    assert run["progress"]["stage"] == "matching"


def send(walk: Walk, block: Block) -> None:
    walk.shell(block.code, "send")

    run = walk.latest_run("nightly-product-import")
    assert run["status"] == "succeeded"
    assert run["payloads"][0]["data"] == {"path": "/data/products.csv"}


def exec_(walk: Walk, block: Block) -> None:
    output = walk.shell(block.code, "exec")

    assert "README.md" in output  # tar -v's output, passed through
    run = walk.latest_run("nightly-backup")
    assert run["status"] == "succeeded"
    assert "README.md" in run["notes"][-1]["text"]


def pings(walk: Walk, block: Block) -> None:
    before = len(walk.get("/v1/jobs/nightly-backup/runs")["runs"])

    walk.shell(block.code, "pings")

    runs = walk.get("/v1/jobs/nightly-backup/runs")["runs"]
    assert len(runs) == before + 2  # start + success pair up; the exit-status ping is its own
    assert {r["status"] for r in runs[:2]} == {"succeeded"}


def openlineage(walk: Walk, block: Block) -> None:
    walk.python(block.code, "openlineage")

    job = walk.get("/v1/jobs/etl-product_import")
    run = walk.latest_run("etl-product_import")
    assert job["title"] == "product_import"
    assert run["status"] == "succeeded"
    assert "/data/supplier/products.csv" in json.dumps(run["payloads"])


def tokens(walk: Walk, block: Block) -> None:
    output = walk.shell(block.code, "tokens")

    created, *listing, revoked = output.strip().splitlines()
    assert created.startswith("ot_")
    assert any(line.startswith("etl-hosts\tingest\t") for line in listing)
    assert created not in "\n".join(listing)
    assert revoked == "revoked 1 token(s) named 'etl-hosts'"


def ask(walk: Walk, block: Block) -> None:
    answer = walk.shell(block.code, "ask")

    assert answer.strip() and "There are no jobs yet" not in answer


def manifest(walk: Walk, block: Block) -> None:
    output = walk.shell(block.code, "manifest")

    assert output.startswith("wrote app.zip")
    with zipfile.ZipFile(walk.workdir / "app.zip") as package:
        assert "manifest.json" in package.namelist()


def define(walk: Walk, block: Block) -> None:
    walk.shell(block.code, "define")

    job = walk.get("/v1/jobs/nightly-product-import")
    assert job["schedule"] == "10 0 * * *"
    assert job["expect"]["milestones"] == [{"name": "report-published", "by": "5h50m"}]
    assert job["alert"] == ["Sales"]


def jobs_yaml(walk: Walk, block: Block) -> None:
    (walk.workdir / "jobs.yaml").write_text(block.code)

    applied = walk.shell(inline("opentrace jobs apply jobs.yaml"), "jobs apply")

    assert "nightly-product-import" in applied
    job = walk.get("/v1/jobs/nightly-product-import")
    assert job["expect"]["start_within"] == "30m"
    assert job["expect"]["metrics"]["rows_skipped"]["usual"] is True
    assert job["aliases"] == []  # the file replaces the definition: absent fields take defaults


def audience(walk: Walk, block: Block) -> None:
    walk.shell(block.code, "audience")

    job = walk.get("/v1/jobs/payroll-export")
    assert job["audience"] == ["Finance", "ana.lopez@contoso.com"]


Step = Callable[[Walk, Block], Iterator[None] | None]
STEPS: dict[str, Step] = {
    "run-it": run_it, "first-curl": first_curl, "contract": contract, "client": client,
    "send": send, "exec": exec_, "pings": pings, "openlineage": openlineage, "tokens": tokens,
    "ask": ask, "manifest": manifest, "define": define, "jobs-yaml": jobs_yaml,
    "audience": audience,
}


def test_every_command_block_is_walked_or_said_why_not() -> None:
    tagged = [block.name for block in BLOCKS if block.name]
    untagged = {block.first_line: block.line for block in BLOCKS if not block.name}

    assert sorted(tagged) == sorted(STEPS), "each tag has its step and each step its tag"
    assert len(set(tagged)) == len(tagged), "a tag names one block"
    assert set(untagged) == set(NOT_RUN), (
        f"untagged blocks (line: first line): { {v: k for k, v in untagged.items()} }")
    assert BLOCKS[0].name == "run-it"  # the walk starts where the README does


def test_the_readme_walk(walk: Walk) -> None:
    running: list[Iterator[None]] = []
    try:
        for block in BLOCKS:
            if block.name is None:
                continue
            step = STEPS[block.name](walk, block)
            if step is not None:  # a step that keeps something running while the walk goes on
                next(step)
                running.append(step)
    finally:
        for step in reversed(running):
            next(step, None)
