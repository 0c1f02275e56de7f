"""Configuration comes from the environment, fails loudly, and is all documented."""

import re
from pathlib import Path

import pytest

from opentrace.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_machine_needs_no_configuration() -> None:
    settings = Settings.from_env({})

    assert settings.database_url == "sqlite:///opentrace.db"
    assert settings.auth is True
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_values_are_read_from_the_environment() -> None:
    settings = Settings.from_env({
        "OPENTRACE_DATABASE_URL": "postgresql://ot@db:5432/ot", "OPENTRACE_AUTH": "off",
        "OPENTRACE_PORT": "9000", "OPENTRACE_TIMEZONE": "Europe/Berlin",
        "OPENTRACE_DB_TIMEOUT": "0.5",
    })

    assert settings.database_url == "postgresql://ot@db:5432/ot"
    assert settings.auth is False
    assert settings.port == 9000
    assert settings.timezone == "Europe/Berlin"
    assert settings.db_timeout_seconds == 0.5


@pytest.mark.parametrize(("name", "value"), [
    ("OPENTRACE_DATABASE_URL", "mysql://x@y/z"),
    ("OPENTRACE_DATABASE_URL", "not a url"),
    ("OPENTRACE_DATABASE_URL", "sqlite://"),
    ("OPENTRACE_AUTH", "maybe"),
    ("OPENTRACE_PORT", "http"),
    ("OPENTRACE_PORT", "70000"),
    ("OPENTRACE_TIMEZONE", "Mars/Olympus"),
    ("OPENTRACE_DB_TIMEOUT", "-1"),
    ("OPENTRACE_LOG_LEVEL", "LOUD"),
    ("MicrosoftAppType", "Whatever"),
])
def test_a_bad_value_fails_loudly_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^((?:OPENTRACE_|MicrosoftApp)[A-Za-z_]+)=", example,
                                flags=re.MULTILINE))
    read: set[str] = set()
    for package in ("opentrace", "ingest", "storage", "bot", "alerts"):
        for source in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(r"\"((?:OPENTRACE_|MicrosoftApp)[A-Za-z_]+)\"",
                                   source.read_text()))

    assert read, "the scan found no variables at all"
    assert read <= documented, f"undocumented: {sorted(read - documented)}"
    assert documented <= read, f"documented but never read: {sorted(documented - read)}"


def test_allowed_tenants_must_be_tenant_ids() -> None:
    with pytest.raises(SettingsError, match=r"OPENTRACE_ALLOWED_TENANTS.*contoso\.com"):
        Settings.from_env({"OPENTRACE_ALLOWED_TENANTS": "contoso.com"})
