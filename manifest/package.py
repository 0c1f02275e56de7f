"""The Teams app package a Teams admin uploads: `manifest/manifest.json` with the bot's
Microsoft App ID and host name filled in, zipped with its two icons.

    opentrace manifest --app-id 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --domain bot.example.com \
        --version 1.0.1 -o app.zip

The template and icons sit beside this module and ship with the package.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MANIFEST_DIR = Path(__file__).resolve().parent
APP_ID_PLACEHOLDER = "${{MICROSOFT_APP_ID}}"
DOMAIN_PLACEHOLDER = "${{BOT_DOMAIN}}"
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
"""Pixel sizes Teams requires, by the role the manifest's `icons` gives each file."""

_GUID = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}")
_NIL_GUID = "00000000-0000-0000-0000-000000000000"
_VERSION = re.compile(r"(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""A fixed timestamp, so the same inputs always give the same package bytes."""
EXIT_OK, EXIT_FAILED = 0, 1


class PackageError(ValueError):
    """An app id, domain or template that cannot make a valid Teams app package."""


def validate_app_id(value: str) -> str:
    """The bot's Microsoft App ID as a lowercase GUID, or PackageError saying what is wrong."""
    app_id = value.strip().lower()
    if not _GUID.fullmatch(app_id):
        raise PackageError(f"app id {value!r} is not a GUID; give the bot's Microsoft App ID "
                           "(MicrosoftAppId), like 1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    if app_id == _NIL_GUID:
        raise PackageError("app id is the all-zero GUID, a placeholder; give the bot's Microsoft App ID")
    return app_id


def validate_domain(value: str) -> str:
    """The host name the bot is served from, lowercase, or PackageError saying what is wrong."""
    host = value.strip().lower().removesuffix(".")
    example = "like opentrace.example.com"
    if "://" in host:
        raise PackageError(f"domain {value!r} has a scheme; give the host name only, {example}")
    if any(c in host for c in "/?#"):
        raise PackageError(f"domain {value!r} has a path; give the host name only, {example}")
    if ":" in host or "@" in host:
        raise PackageError(f"domain {value!r} has a port or user; give the host name only, {example}")
    labels = host.split(".")
    if (len(host) > 253 or len(labels) < 2 or labels[-1].isdigit()
            or not all(_LABEL.fullmatch(label) for label in labels)):
        raise PackageError(f"domain {value!r} is not a host name {example}")
    return host


def validate_version(value: str) -> str:
    """The app package's version: Teams accepts an updated upload only with a higher one."""
    version = value.strip()
    if not _VERSION.fullmatch(version):
        raise PackageError(f"version {value!r} is not MAJOR.MINOR.PATCH, like 1.0.1")
    return version


def validate_https_url(value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 2048 or " " in url:
        raise PackageError(f"{value!r} is not an https:// URL (Teams shows it to people)")
    return url


@dataclass(frozen=True)
class Links:
    """The pages Teams links from the app's details: by default the ones the server serves."""

    privacy: str | None = None
    terms: str | None = None


def build_package(app_id: str, domain: str, *, version: str = "1.0.0",
                  links: Links = Links()) -> bytes:
    """The zip Teams accepts: manifest.json at the root and both icons beside it."""
    app_id, domain = validate_app_id(app_id), validate_domain(domain)
    manifest = render_manifest(load_template(), app_id=app_id, domain=domain)
    manifest["version"] = validate_version(version)
    developer = manifest["developer"]
    developer["privacyUrl"] = validate_https_url(links.privacy or f"https://{domain}/privacy")
    developer["termsOfUseUrl"] = validate_https_url(links.terms or f"https://{domain}/terms")
    files = {"manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"}
    for role, size in ICON_SIZES.items():
        name = manifest["icons"][role]
        files[name] = read_icon(name, size)
    return zip_files(files)


def load_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads((MANIFEST_DIR / "manifest.json").read_text("utf-8"))
    return template


def render_manifest(template: dict[str, Any], *, app_id: str, domain: str) -> dict[str, Any]:
    """Fill the placeholders; the app's id and its bot's id are both the Microsoft App ID."""
    manifest: dict[str, Any] = _substitute(template, {APP_ID_PLACEHOLDER: app_id, DOMAIN_PLACEHOLDER: domain})
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    domains = manifest.setdefault("validDomains", [])
    if domain not in domains:
        domains.append(domain)
    leftover = re.search(r"\$\{\{\w+\}\}", json.dumps(manifest))
    if leftover:
        raise PackageError(f"the manifest template has a placeholder nobody fills: {leftover.group()}")
    return manifest


def _substitute(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, text in replacements.items():
            value = value.replace(placeholder, text)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, replacements) for key, item in value.items()}
    return value


def read_icon(name: str, size: tuple[int, int]) -> bytes:
    data = (MANIFEST_DIR / name).read_bytes()
    actual = png_size(data)
    if actual != size:
        raise PackageError(f"{name} is {actual[0]}x{actual[1]} pixels; Teams needs {size[0]}x{size[1]}")
    return data


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header chunk."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise PackageError("an icon is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def zip_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "manifest", help="write the Teams app package (zip) a Teams admin uploads",
        description="Write the Teams app package: manifest.json with the bot's app id and domain, "
                    "and its icons. Upload it in the Teams admin center (Manage apps, Upload).")
    parser.add_argument("--app-id", required=True, type=_argument(validate_app_id),
                        help="the bot's Microsoft App ID (MicrosoftAppId), a GUID")
    parser.add_argument("--domain", required=True, type=_argument(validate_domain),
                        help="host name the bot is served from, e.g. opentrace.example.com")
    parser.add_argument("-o", "--output", type=Path, default=Path("app.zip"),
                        help="where to write the zip (default app.zip)")
    parser.add_argument("--version", default="1.0.0", type=_argument(validate_version),
                        help="the package version (default 1.0.0); raise it for every updated "
                             "upload, Teams refuses one that is not higher")
    parser.add_argument("--privacy-url", type=_argument(validate_https_url),
                        help="your privacy statement (default https://DOMAIN/privacy, a page "
                             "OpenTrace serves saying what it stores)")
    parser.add_argument("--terms-url", type=_argument(validate_https_url),
                        help="your terms of use (default https://DOMAIN/terms, served likewise)")
    parser.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    parser.set_defaults(func=run_manifest)


def _argument(validate: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type whose error message is the validator's own (argparse then exits 2)."""
    def check(value: str) -> str:
        try:
            return validate(value)
        except PackageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return check


def run_manifest(args: argparse.Namespace) -> int:
    output: Path = args.output
    try:
        package = build_package(args.app_id, args.domain, version=args.version,
                                links=Links(args.privacy_url, args.terms_url))
        with output.open("wb" if args.force else "xb") as file:
            file.write(package)
    except FileExistsError:
        print(f"opentrace manifest: {output} exists; use --force to overwrite it", file=sys.stderr)
        return EXIT_FAILED
    except (PackageError, OSError) as exc:
        print(f"opentrace manifest: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {output}: Teams app {args.app_id} version {args.version} for {args.domain}")
    return EXIT_OK
