"""Server configuration: one typed object read from the environment, failing loudly.

Every variable is listed, with a comment, in `.env.example`; a test keeps the two in step.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.engine import DatabaseURLError, async_url

T = TypeVar("T", int, float)
TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///opentrace.db"
    auth: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    timezone: str = "UTC"
    db_timeout_seconds: float = 5.0
    token_cache_seconds: float = 30.0
    log_level: str = "INFO"
    log_format: str = "text"  # text for people, json (one object per line) for log shippers
    watch: bool = True  # judge deadlines and send alerts (only the leading replica does)
    # The Teams bot's Azure registration; with no app id the bot accepts unauthenticated local
    # requests (development, tests, the Agents Playground).
    microsoft_app_id: str = ""
    microsoft_app_password: str = ""
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    # Entra tenants whose Teams activities are accepted; empty: the app's own tenant when
    # MicrosoftAppTenantId is set, otherwise any (local development).
    allowed_tenants: tuple[str, ...] = ()
    # Events of runs older than this are pruned by the leading replica (run summaries stay); 0 keeps all.
    retention_days: int = 400

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        def get(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        settings = cls(
            database_url=get("OPENTRACE_DATABASE_URL", cls.database_url),
            auth=_switch("OPENTRACE_AUTH", get("OPENTRACE_AUTH", "on")),
            host=get("OPENTRACE_HOST", cls.host),
            port=_number("OPENTRACE_PORT", get("OPENTRACE_PORT", str(cls.port)), int, 1, 65535),
            timezone=get("OPENTRACE_TIMEZONE", cls.timezone),
            db_timeout_seconds=_number(
                "OPENTRACE_DB_TIMEOUT", get("OPENTRACE_DB_TIMEOUT", "5"), float, 0.05, 600
            ),
            token_cache_seconds=_number(
                "OPENTRACE_TOKEN_CACHE_SECONDS", get("OPENTRACE_TOKEN_CACHE_SECONDS", "30"),
                float, 0, 3600,
            ),
            log_level=get("OPENTRACE_LOG_LEVEL", cls.log_level).upper(),
            log_format=get("OPENTRACE_LOG_FORMAT", cls.log_format).lower(),
            watch=_switch("OPENTRACE_WATCH", get("OPENTRACE_WATCH", "on")),
            microsoft_app_id=get("MicrosoftAppId", ""),
            microsoft_app_password=get("MicrosoftAppPassword", ""),
            microsoft_app_tenant_id=get("MicrosoftAppTenantId", ""),
            microsoft_app_type=get("MicrosoftAppType", cls.microsoft_app_type),
            allowed_tenants=_tenants(get("OPENTRACE_ALLOWED_TENANTS", "")),
            retention_days=_number(
                "OPENTRACE_RETENTION_DAYS", get("OPENTRACE_RETENTION_DAYS", "400"), int, 0, 36500
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        try:
            async_url(self.database_url)
        except DatabaseURLError as exc:
            raise SettingsError(f"OPENTRACE_DATABASE_URL: {exc}") from None
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"OPENTRACE_TIMEZONE: unknown time zone {self.timezone!r}"
            ) from None
        if self.microsoft_app_type not in APP_TYPES:
            raise SettingsError(f"MicrosoftAppType: use one of {', '.join(APP_TYPES)}")
        if self.microsoft_app_type == "SingleTenant" and self.microsoft_app_id \
                and not self.microsoft_app_tenant_id:
            raise SettingsError("MicrosoftAppTenantId: required when MicrosoftAppType is SingleTenant")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("OPENTRACE_LOG_LEVEL: use DEBUG, INFO, WARNING or ERROR")
        if self.log_format not in ("text", "json"):
            raise SettingsError("OPENTRACE_LOG_FORMAT: use text or json")

    @property
    def accepted_tenants(self) -> frozenset[str]:
        """The tenants /api/messages accepts; empty means any."""
        if self.allowed_tenants:
            return frozenset(self.allowed_tenants)
        own = self.microsoft_app_tenant_id.lower()
        return frozenset([own] if own else [])


def _tenants(value: str) -> tuple[str, ...]:
    tenants = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    for tenant in tenants:
        if not TENANT_ID.fullmatch(tenant):
            raise SettingsError(f"OPENTRACE_ALLOWED_TENANTS: {tenant!r} is not a tenant id (a GUID)")
    return tenants


def _switch(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{name}: expected on or off, got {value!r}")


def _number(name: str, value: str, kind: type[T], low: T, high: T) -> T:
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name}: {number} is outside {low}..{high}")
    return number
