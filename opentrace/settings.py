"""Server configuration: one typed object read from the environment, failing loudly.

Every variable is listed, with a comment, in `.env.example`; a test keeps the two in step.
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit
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
    # The external base URL behind a reverse proxy (no trailing slash); empty: each request's own.
    public_url: str = ""
    # Direct peers whose X-Forwarded-For, -Proto and -Host are believed; nobody's by default.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

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
            public_url=get("OPENTRACE_PUBLIC_URL", "").rstrip("/"),
            trusted_proxies=_networks(get("OPENTRACE_TRUSTED_PROXIES", "")),
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
        if self.public_url:
            problem = _url_problem(self.public_url)
            if problem:
                raise SettingsError(f"OPENTRACE_PUBLIC_URL: {problem}; got {self.public_url!r} "
                                    "(the external base URL, e.g. https://opentrace.example.com)")

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


def _url_problem(url: str) -> str | None:
    """Why `url` cannot be the base of the links the server hands out, or None."""
    if any(c.isspace() for c in url):
        return "a URL has no spaces"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "use an absolute http:// or https:// URL"
    if parts.username is not None or parts.password is not None:
        return "no user or password in it (links would hand them out)"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "no query or fragment: the base URL only, with a path prefix if there is one"
    if port == 0:
        return "port 0 is not a port"
    return None


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part))
        except ValueError as exc:
            hint = ("name the proxy by its address, host names are not resolved"
                    if re.search(r"[g-zG-Z]", part) else str(exc))
            raise SettingsError(f"OPENTRACE_TRUSTED_PROXIES: {part!r} is not an IP address or "
                                f"network (CIDR, e.g. 10.0.0.0/8): {hint}") from None
    return tuple(networks)


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
