"""`opentrace manifest` writes the Teams app package a Teams admin uploads, and Microsoft's own
validator (npm @microsoft/app-manifest, the official schemas it bundles) accepts it."""

import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from manifest import package as teams_manifest

HERE = Path(__file__).resolve().parent
VALIDATOR = HERE / "validate_manifest.js"
APP_MANIFEST_PACKAGE = HERE.parent / "node" / "node_modules" / "@microsoft" / "app-manifest"
APP_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
DOMAIN = "opentrace.example.com"
SCOPES = ("personal", "team", "groupChat")


# --- helpers ---------------------------------------------------------------------------------

def opentrace_manifest(*args: str) -> int:
    """Run `opentrace manifest ARGS` through the subcommand's own argparse wiring."""
    parser = argparse.ArgumentParser(prog="opentrace")
    teams_manifest.register(parser.add_subparsers())
    try:
        parsed = parser.parse_args(["manifest", *args])
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)
    return int(parsed.func(parsed))


def write_package(tmp_path: Path, app_id: str = APP_ID, domain: str = DOMAIN) -> zipfile.ZipFile:
    output = tmp_path / "app.zip"
    assert opentrace_manifest("--app-id", app_id, "--domain", domain, "-o", str(output)) == 0
    return zipfile.ZipFile(output)


def manifest_of(package: zipfile.ZipFile) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(package.read("manifest.json"))
    return loaded


@dataclass
class Validation:
    exit_code: int
    schema: str | None
    errors: list[str]


Validator = Callable[[dict[str, Any]], Validation]
Pixel = tuple[int, int, int, int]


@pytest.fixture
def validate(tmp_path: Path) -> Validator:
    """Validate a manifest dict with the Node script; skips without Node tools, except in CI."""
    node = shutil.which("node")
    missing = ("node is not on PATH" if node is None
               else None if APP_MANIFEST_PACKAGE.is_dir()
               else "@microsoft/app-manifest is not installed (run `npm ci` in tests/node)")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; the manifest must be validated under CI=true")
        pytest.skip(missing)

    def run(manifest: dict[str, Any]) -> Validation:
        path = tmp_path / "manifest-under-test.json"
        path.write_text(json.dumps(manifest), "utf-8")
        done = subprocess.run([str(node), str(VALIDATOR), str(path)], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode in (0, 1, 2) and done.stdout, done.stderr
        result = json.loads(done.stdout)
        fatal = [result["fatal"]] if "fatal" in result else []
        return Validation(done.returncode, result["schema"], result["errors"] + fatal)

    return run


@dataclass
class Png:
    width: int
    height: int
    pixels: list[Pixel]
    """RGBA, row by row."""


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def decode_png(data: bytes) -> Png:
    """Just enough PNG: 8-bit, not interlaced, any colour type, any filter; chunk CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: dict[bytes, bytes] = {}
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and not interlace and colour in CHANNELS, "the test decoder reads 8-bit PNGs"
    rows = unfilter(zlib.decompress(chunks[b"IDAT"]), width * CHANNELS[colour], height, CHANNELS[colour])
    to_rgba = rgba_reader(colour, chunks.get(b"PLTE", b""), chunks.get(b"tRNS"))
    step = CHANNELS[colour]
    pixels = [to_rgba(row[x:x + step]) for row in rows for x in range(0, len(row), step)]
    return Png(width, height, pixels)


def unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            p = a + b - c
            nearest = a if abs(p - a) <= min(abs(p - b), abs(p - c)) else b if abs(p - b) <= abs(p - c) else c
            line[i] = (line[i] + (0, a, b, (a + b) // 2, nearest)[kind]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def rgba_reader(colour: int, palette: bytes, transparency: bytes | None) -> Callable[[bytes], Pixel]:
    def gray(s: bytes) -> Pixel:
        hidden = transparency is not None and struct.unpack(">H", transparency)[0] == s[0]
        return (s[0], s[0], s[0], 0 if hidden else 255)

    def rgb(s: bytes) -> Pixel:
        hidden = transparency is not None and struct.unpack(">HHH", transparency) == tuple(s)
        return (s[0], s[1], s[2], 0 if hidden else 255)

    def indexed(s: bytes) -> Pixel:
        alpha = transparency[s[0]] if transparency and s[0] < len(transparency) else 255
        red, green, blue = palette[3 * s[0]:3 * s[0] + 3]
        return (red, green, blue, alpha)

    return {0: gray, 2: rgb, 3: indexed,
            4: lambda s: (s[0], s[0], s[0], s[1]), 6: lambda s: (s[0], s[1], s[2], s[3])}[colour]


# --- the package -----------------------------------------------------------------------------

def test_microsofts_validator_accepts_the_package_manifest(tmp_path: Path, validate: Validator) -> None:
    manifest = manifest_of(write_package(tmp_path))
    result = validate(manifest)
    assert result.errors == [] and result.exit_code == 0
    version = manifest["manifestVersion"]
    assert result.schema == f"build/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"


def test_the_package_is_manifest_and_icons_at_the_root(tmp_path: Path) -> None:
    package = write_package(tmp_path)
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    icons = manifest_of(package)["icons"]
    assert {icons["color"], icons["outline"]} == {"color.png", "outline.png"}


def test_the_app_and_its_bot_carry_the_microsoft_app_id_and_domain(tmp_path: Path) -> None:
    manifest = manifest_of(write_package(tmp_path, app_id=APP_ID.upper(), domain="Bot.Example.COM"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert "bot.example.com" in manifest["validDomains"]
    assert manifest["developer"]["websiteUrl"] == "https://bot.example.com/"
    assert "${{" not in json.dumps(manifest)
    assert manifest["version"] == "1.0.0"


def test_the_bot_is_a_conversational_bot_in_every_scope(tmp_path: Path) -> None:
    (bot,) = manifest_of(write_package(tmp_path))["bots"]
    assert sorted(bot["scopes"]) == sorted(SCOPES)
    assert bot["supportsFiles"] is False
    assert bot.get("isNotificationOnly", False) is False


def test_every_scope_has_a_command_list_that_shows_what_to_ask(tmp_path: Path) -> None:
    lists = manifest_of(write_package(tmp_path))["bots"][0]["commandLists"]
    for scope in SCOPES:
        (commands,) = [entry["commands"] for entry in lists if scope in entry["scopes"]]
        titles = [command["title"] for command in commands]
        assert "help" in titles and len(set(titles)) == len(titles), scope
        for command in commands:
            assert 0 < len(command["title"]) <= 32, command
            assert 0 < len(command["description"]) <= 128, command


def test_the_same_inputs_give_the_same_package() -> None:
    assert teams_manifest.build_package(APP_ID, DOMAIN) == teams_manifest.build_package(APP_ID, DOMAIN)


# --- icons -----------------------------------------------------------------------------------

def test_the_icons_have_the_sizes_teams_requires(tmp_path: Path) -> None:
    package = write_package(tmp_path)
    colour, outline = decode_png(package.read("color.png")), decode_png(package.read("outline.png"))
    assert (colour.width, colour.height, len(colour.pixels)) == (192, 192, 192 * 192)
    assert (outline.width, outline.height, len(outline.pixels)) == (32, 32, 32 * 32)
    assert len(set(colour.pixels)) > 1, "the colour icon is blank"


def test_the_outline_icon_is_white_on_a_transparent_background(tmp_path: Path) -> None:
    outline = decode_png(write_package(tmp_path).read("outline.png"))
    not_white = [p for p in outline.pixels if p[3] and p[:3] != (255, 255, 255)]
    assert not_white == []
    assert outline.pixels[0][3] == outline.pixels[-1][3] == 0, "the corners are not transparent"
    assert any(p[3] == 255 for p in outline.pixels), "the outline draws nothing"


# --- the validator can fail ------------------------------------------------------------------

def test_the_validator_reports_a_broken_manifest(tmp_path: Path, validate: Validator) -> None:
    manifest = manifest_of(write_package(tmp_path))
    manifest["id"] = "not-a-guid"
    manifest["accentColor"] = "blue"
    manifest["bots"][0]["scopes"].append("meeting")
    manifest["bots"][0]["commandLists"][0]["commands"][0]["colour"] = "red"
    result = validate(manifest)
    assert result.exit_code == 1
    reported = "\n".join(result.errors)
    for where in ("/id ", "/accentColor ", "/bots/0/scopes/3 ", "additionalProperty\":\"colour"):
        assert where in reported, (where, reported)


def test_the_validator_reports_a_schema_url_of_another_version(tmp_path: Path, validate: Validator) -> None:
    manifest = manifest_of(write_package(tmp_path))
    manifest["$schema"] = manifest["$schema"].replace(manifest["manifestVersion"], "1.17")
    result = validate(manifest)
    assert result.exit_code == 1 and any(e.startswith("/$schema ") for e in result.errors)


def test_the_validator_refuses_a_version_it_has_no_schema_for(tmp_path: Path, validate: Validator) -> None:
    manifest = manifest_of(write_package(tmp_path))
    manifest["manifestVersion"] = "9.99"
    result = validate(manifest)
    assert result.exit_code == 2 and "9.99" in result.errors[0]


# --- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize(("app_id", "says"), [
    ("not-a-guid", "is not a GUID"),
    (APP_ID.replace("-", ""), "is not a GUID"),
    ("{" + APP_ID + "}", "is not a GUID"),
    ("00000000-0000-0000-0000-000000000000", "placeholder"),
])
def test_a_bad_app_id_exits_2_and_says_why(app_id: str, says: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "app.zip"
    assert opentrace_manifest("--app-id", app_id, "--domain", DOMAIN, "-o", str(output)) == 2
    error = capsys.readouterr().err
    assert "--app-id" in error and says in error and "Microsoft App ID" in error
    assert not output.exists()


@pytest.mark.parametrize(("domain", "says"), [
    ("https://opentrace.example.com", "has a scheme"),
    ("opentrace.example.com/api/messages", "has a path"),
    ("opentrace.example.com:443", "has a port"),
    ("localhost", "is not a host name"),
    ("10.0.0.7", "is not a host name"),
    ("open_trace.example.com", "is not a host name"),
    ("*.example.com", "is not a host name"),
    ("-bad.example.com", "is not a host name"),
    ("", "is not a host name"),
])
def test_a_bad_domain_exits_2_and_says_why(domain: str, says: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "app.zip"
    assert opentrace_manifest("--app-id", APP_ID, f"--domain={domain}", "-o", str(output)) == 2
    error = capsys.readouterr().err
    assert "--domain" in error and says in error and "opentrace.example.com" in error
    assert not output.exists()


def test_build_package_refuses_what_the_command_refuses() -> None:
    with pytest.raises(teams_manifest.PackageError, match="GUID"):
        teams_manifest.build_package("nope", DOMAIN)
    with pytest.raises(teams_manifest.PackageError, match="scheme"):
        teams_manifest.build_package(APP_ID, "http://opentrace.example.com")


def test_it_will_not_overwrite_a_file_unless_forced(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "app.zip"
    output.write_bytes(b"keep me")
    assert opentrace_manifest("--app-id", APP_ID, "--domain", DOMAIN, "-o", str(output)) == 1
    assert output.read_bytes() == b"keep me"
    assert "--force" in capsys.readouterr().err
    assert opentrace_manifest("--app-id", APP_ID, "--domain", DOMAIN, "-o", str(output), "--force") == 0
    assert zipfile.ZipFile(io.BytesIO(output.read_bytes())).namelist()


def test_an_updated_upload_carries_a_higher_version_and_its_own_privacy_and_terms_pages(
    tmp_path: Path, validate: Validator, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "app.zip"
    assert opentrace_manifest(
        "--app-id", APP_ID, "--domain", DOMAIN, "-o", str(output), "--version", "1.0.1",
        "--privacy-url", "https://contoso.example/privacy",
        "--terms-url", "https://contoso.example/legal/terms") == 0

    manifest = manifest_of(zipfile.ZipFile(output))
    assert manifest["version"] == "1.0.1"
    assert manifest["developer"]["privacyUrl"] == "https://contoso.example/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://contoso.example/legal/terms"
    assert validate(manifest).errors == []
    assert "version 1.0.1" in capsys.readouterr().out


def test_by_default_privacy_and_terms_point_at_the_pages_the_server_serves(tmp_path: Path) -> None:
    developer = manifest_of(write_package(tmp_path))["developer"]

    assert developer["privacyUrl"] == f"https://{DOMAIN}/privacy"
    assert developer["termsOfUseUrl"] == f"https://{DOMAIN}/terms"


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--version", "1.0", "MAJOR.MINOR.PATCH"),
    ("--version", "v1.0.1", "MAJOR.MINOR.PATCH"),
    ("--version", "1.01.0", "MAJOR.MINOR.PATCH"),
    ("--privacy-url", "http://contoso.example/privacy", "https://"),
    ("--terms-url", "contoso.example/terms", "https://"),
])
def test_a_bad_version_or_page_exits_2_and_says_why(
    option: str, value: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "app.zip"

    assert opentrace_manifest("--app-id", APP_ID, "--domain", DOMAIN, "-o", str(output),
                              f"{option}={value}") == 2
    error = capsys.readouterr().err
    assert option in error and says in error
    assert not output.exists()
