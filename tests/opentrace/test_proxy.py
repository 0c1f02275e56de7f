"""Behind a reverse proxy: an operator sets OPENTRACE_PUBLIC_URL and OPENTRACE_TRUSTED_PROXIES,
and the access log, the audit log and the links the server returns name the real client and the
real address — while a client that sends X-Forwarded-* itself, past no trusted proxy, fools
nobody. Each story runs `opentrace serve` on 127.0.0.1 and talks to it over HTTP; the test itself
plays the proxy when 127.0.0.1 is trusted."""

import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from opentrace.cli import banner
from opentrace.proxy import Forwarding, parse_address
from opentrace.settings import Settings, SettingsError
from tests.serving import free_port, opentrace_command, stop_process, wait_for_health

PUBLIC = "https://opentrace.example.com/ot"
SPOOFED = {"X-Forwarded-For": "198.51.100.66", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "evil.example"}


@dataclass
class Served:
    url: str
    token: str
    log: Path

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text.startswith(("{", "[")) else text

    def audit_origin(self, job: str, headers: dict[str, str]) -> str:
        """Define a job through the 'proxy' and read where the audit log says it came from."""
        self.request("PUT", f"/v1/jobs/{job}", headers, {"title": job})
        [entry] = self.request("GET", f"/v1/audit?target={job}")["entries"]
        return str(entry["origin"])

    def access_log(self, path: str) -> list[dict[str, Any]]:
        """The access log's lines for requests to `path` (the server writes each at once)."""
        lines = [json.loads(line) for line in self.log.read_text().splitlines()
                 if line.startswith("{")]
        return [line for line in lines if line["logger"] == "opentrace.access"
                and line["path"] == path]

    def ping_start(self, job: str, headers: dict[str, str]) -> str:
        """Ping a start through the 'proxy'; the address the run's attributes recorded."""
        assert self.request("GET", f"/ping/{self.token}/{job}/start", headers) == "OK"
        runs = self.request("GET", f"/v1/jobs/{job}/runs")["runs"]
        run = self.request("GET", f"/v1/jobs/{job}/runs/{runs[0]['run']}")
        return str(run["attributes"]["remote_addr"])


def serve(factory: pytest.TempPathFactory, **settings: str) -> Iterator[Served]:
    workdir = factory.mktemp("proxy")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENTRACE_", "MicrosoftApp"))}
    env.update({"OPENTRACE_DATABASE_URL": f"sqlite:///{workdir / 'ot.db'}",
                "OPENTRACE_LOG_FORMAT": "json", "OPENTRACE_WATCH": "off", **settings})
    port = free_port()
    log = workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([*opentrace_command(), "serve", "--port", str(port)], env=env,
                                   cwd=workdir, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, output=log.read_text)
        [token] = re.findall(r"^\s+(ot_\S+)$", log.read_text(), re.MULTILINE)  # the first start's
        yield Served(url, token, log)
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Nothing configured: what a newcomer runs."""
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def proxied_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A public URL and trusted proxies — none of which is where these requests come from."""
    yield from serve(tmp_path_factory, OPENTRACE_PUBLIC_URL=PUBLIC + "/",
                     OPENTRACE_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1")


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The test is the proxy (127.0.0.1), with another trusted proxy before it; no public URL."""
    yield from serve(tmp_path_factory, OPENTRACE_TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8")


@pytest.fixture(scope="module")
def behind_proxy_with_public_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, OPENTRACE_TRUSTED_PROXIES="127.0.0.1",
                     OPENTRACE_PUBLIC_URL=PUBLIC)


def test_a_client_cannot_pass_itself_off_as_someone_else(plain: Served) -> None:
    origin = plain.audit_origin("spoofed", SPOOFED)
    remote_addr = plain.ping_start("spoofed-ping", SPOOFED)

    assert origin == "127.0.0.1"
    assert remote_addr == "127.0.0.1"
    [put] = plain.access_log("/v1/jobs/spoofed")
    assert put["client"] == "127.0.0.1"
    assert put["message"].endswith(" token bootstrap-admin from 127.0.0.1")
    assert "198.51.100.66" not in plain.log.read_text()


def test_forwarded_headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored(
    proxied_elsewhere: Served,
) -> None:
    origin = proxied_elsewhere.audit_origin("spoofed", SPOOFED)
    remote_addr = proxied_elsewhere.ping_start("spoofed-ping", SPOOFED)

    assert origin == "127.0.0.1"
    assert remote_addr == "127.0.0.1"
    [put] = proxied_elsewhere.access_log("/v1/jobs/spoofed")
    assert put["client"] == "127.0.0.1"


def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_hop(
    behind_proxy: Served,
) -> None:
    # The client claimed 198.51.100.66; the first proxy (10.0.0.2, trusted) saw 203.0.113.7
    # connect and appended it; the proxy at 127.0.0.1 appended 10.0.0.2.
    chain = {"X-Forwarded-For": "198.51.100.66, 203.0.113.7, 10.0.0.2"}

    origin = behind_proxy.audit_origin("forwarded", chain)
    remote_addr = behind_proxy.ping_start("forwarded-ping", {"X-Forwarded-For": "[2001:db8::7]:51234"})
    unforwarded = behind_proxy.audit_origin("direct", {})

    assert origin == "203.0.113.7"
    assert remote_addr == "2001:db8::7"
    assert unforwarded == "127.0.0.1"  # the proxy's own request
    [put] = behind_proxy.access_log("/v1/jobs/forwarded")
    assert (put["client"], put["caller"]) == ("203.0.113.7", "token bootstrap-admin")
    assert put["message"] == (f"PUT /v1/jobs/forwarded 201 {put['duration_ms']} ms "
                              "token bootstrap-admin from 203.0.113.7")
    [ping] = behind_proxy.access_log("/ping/{ping_key}/{job}/start")
    assert ping["client"] == "2001:db8::7"


def test_next_links_start_with_the_public_url(behind_proxy_with_public_url: Served) -> None:
    served = behind_proxy_with_public_url
    for job in ("a", "b", "c"):
        served.request("PUT", f"/v1/jobs/{job}", body={"title": job})

    page = served.request("GET", "/v1/audit?limit=2&action=job",
                          {"X-Forwarded-Host": "internal.example", "X-Forwarded-Proto": "http"})
    # The proxy strips the public URL's path prefix before it passes the request on.
    second = served.request("GET", page["next"].removeprefix(PUBLIC))

    assert page["next"].startswith(f"{PUBLIC}/v1/audit?")
    assert [e["target"] for e in page["entries"]] == ["c", "b"]
    assert [e["target"] for e in second["entries"]] == ["a"]
    assert second["next"] is None


def test_a_public_url_wins_for_links_whoever_sends_the_request(proxied_elsewhere: Served) -> None:
    for job in ("x", "y"):
        proxied_elsewhere.request("PUT", f"/v1/jobs/{job}", body={"title": job})

    page = proxied_elsewhere.request("GET", "/v1/audit?limit=1&action=job", SPOOFED)

    assert page["next"].startswith(f"{PUBLIC}/v1/audit?limit=1&action=job&before=")


def test_without_a_public_url_links_take_the_scheme_and_host_the_trusted_proxy_forwarded(
    behind_proxy: Served,
) -> None:
    for job in ("a", "b"):
        behind_proxy.request("PUT", f"/v1/jobs/{job}", body={"title": job})

    forwarded = behind_proxy.request("GET", "/v1/audit?limit=1", {
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example, opentrace.example.com"})
    direct = behind_proxy.request("GET", "/v1/audit?limit=1")

    assert forwarded["next"].startswith("https://opentrace.example.com/v1/audit?limit=1&before=")
    assert direct["next"].startswith(f"{behind_proxy.url}/v1/audit?")


def test_a_spoofed_host_does_not_reach_the_links(plain: Served) -> None:
    for job in ("a", "b"):
        plain.request("PUT", f"/v1/jobs/{job}", body={"title": job})

    page = plain.request("GET", "/v1/audit?limit=1", SPOOFED)

    assert page["next"].startswith(f"{plain.url}/v1/audit?")


def test_the_banner_names_the_public_url_and_the_messaging_endpoint(
    behind_proxy_with_public_url: Served, plain: Served,
) -> None:
    output = behind_proxy_with_public_url.log.read_text()

    assert "OpenTrace listening on http://127.0.0.1:" in output
    assert f"messaging endpoint is {PUBLIC}/api/messages" in output
    assert "No proxy is trusted" not in output
    assert "Public URL" not in plain.log.read_text()
    lonely = banner(Settings(public_url=PUBLIC), "0.0.0.0", 8080)
    assert "No proxy is trusted (OPENTRACE_TRUSTED_PROXIES)" in lonely


def test_a_bad_proxy_setting_stops_the_server_naming_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    env.update({"OPENTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'ot.db'}",
                "OPENTRACE_TRUSTED_PROXIES": "10.0.0.5, proxy.internal"})

    result = subprocess.run([*opentrace_command(), "serve", "--port", str(free_port())], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 2
    assert ("configuration error: OPENTRACE_TRUSTED_PROXIES: 'proxy.internal' is not an IP "
            "address") in result.stderr
    assert "host names are not resolved" in result.stderr
    assert not (tmp_path / "ot.db").exists()


@pytest.mark.parametrize(("name", "value", "says"), [
    ("OPENTRACE_PUBLIC_URL", "opentrace.example.com", "absolute http:// or https:// URL"),
    ("OPENTRACE_PUBLIC_URL", "ftp://opentrace.example.com", "absolute http:// or https:// URL"),
    ("OPENTRACE_PUBLIC_URL", "https://opentrace.example.com/?page=1", "no query or fragment"),
    ("OPENTRACE_PUBLIC_URL", "https://opentrace.example.com/#top", "no query or fragment"),
    ("OPENTRACE_PUBLIC_URL", "https://ops:secret@opentrace.example.com", "no user or password"),
    ("OPENTRACE_PUBLIC_URL", "https://opentrace.example.com:99999", "not a URL"),
    ("OPENTRACE_PUBLIC_URL", "https://opentrace example.com", "no spaces"),
    ("OPENTRACE_TRUSTED_PROXIES", "proxy.internal", "host names are not resolved"),
    ("OPENTRACE_TRUSTED_PROXIES", "10.0.0.5/24", "host bits set"),
    ("OPENTRACE_TRUSTED_PROXIES", "10.0.0.0/33", "not an IP address or network"),
])
def test_bad_proxy_settings_are_named(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=name) as raised:
        Settings.from_env({name: value})

    assert says in str(raised.value)


# --- the rules, case by case --------------------------------------------------------------


NAMES = {"xff": "X-Forwarded-For", "proto": "X-Forwarded-Proto", "host": "X-Forwarded-Host"}


def seen(trusted: str, peer: str, headers: list[tuple[str, str]]) -> tuple[str | None, str, str]:
    forwarding = Forwarding(Settings.from_env({"OPENTRACE_TRUSTED_PROXIES": trusted}).trusted_proxies)
    result = forwarding.seen(peer, "http", "10.0.0.9:8080",
                             CIMultiDict([(NAMES[name], value) for name, value in headers]))
    return result.client, result.scheme, result.host


LOCAL = "10.0.0.9:8080"


@pytest.mark.parametrize(("trusted", "peer", "headers", "expected"), [
    # nobody trusted: the headers change nothing
    ("", "192.0.2.1", [("xff", "203.0.113.7"), ("proto", "https"), ("host", "x.example")],
     ("192.0.2.1", "http", LOCAL)),
    # a trusted peer: the hop it saw, the scheme and host it was asked for
    ("192.0.2.1", "192.0.2.1", [("xff", "203.0.113.7"), ("proto", "HTTPS"), ("host", "x.example")],
     ("203.0.113.7", "https", "x.example")),
    # every hop trusted: the leftmost is the client
    ("10.0.0.0/8", "10.0.0.1", [("xff", "10.1.1.1, 10.2.2.2")], ("10.1.1.1", "http", LOCAL)),
    # a value that is no address stops the walk at the last trusted hop
    ("10.0.0.0/8", "10.0.0.1", [("xff", "203.0.113.7, bogus")], ("10.0.0.1", "http", LOCAL)),
    # several header lines are one list; the rightmost proto and host count
    ("10.0.0.0/8", "10.0.0.1", [("xff", "198.51.100.66"), ("xff", "203.0.113.7, 10.0.0.2"),
                                 ("proto", "http"), ("proto", "https")],
     ("203.0.113.7", "https", LOCAL)),
    # ports and brackets are dropped
    ("10.0.0.0/8", "10.0.0.1", [("xff", "203.0.113.7:4711")], ("203.0.113.7", "http", LOCAL)),
    ("::1", "::1", [("xff", "[2001:db8::1]:443")], ("2001:db8::1", "http", LOCAL)),
    # a dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d
    ("10.0.0.1", "::ffff:10.0.0.1", [("xff", "203.0.113.7")], ("203.0.113.7", "http", LOCAL)),
    # a scheme or host no link could use is ignored
    ("10.0.0.1", "10.0.0.1", [("proto", "gopher"), ("host", "evil.example/path")],
     ("10.0.0.1", "http", LOCAL)),
    ("10.0.0.1", "10.0.0.1", [("host", "user@evil.example")], ("10.0.0.1", "http", LOCAL)),
    ("10.0.0.1", "10.0.0.1", [("host", "[2001:db8::1]:8443")], ("10.0.0.1", "http", "[2001:db8::1]:8443")),
    # no peer address at all (a Unix socket): not a trusted proxy
    ("10.0.0.1", "", [("xff", "203.0.113.7")], ("", "http", LOCAL)),
])
def test_the_forwarding_rules(trusted: str, peer: str, headers: list[tuple[str, str]],
                              expected: tuple[str | None, str, str]) -> None:
    assert seen(trusted, peer, headers) == expected


def test_addresses_are_read_as_proxies_write_them() -> None:
    assert str(parse_address("203.0.113.7")) == "203.0.113.7"
    assert str(parse_address(' "[2001:db8::1]:80" ')) == "2001:db8::1"
    assert parse_address("unknown") is None
    assert parse_address("") is None


def test_settings_read_the_proxy_variables() -> None:
    settings = Settings.from_env({"OPENTRACE_PUBLIC_URL": "https://opentrace.example.com/",
                                  "OPENTRACE_TRUSTED_PROXIES": " 10.0.0.0/8 ,, ::1 "})

    assert settings.public_url == "https://opentrace.example.com"
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert Settings.from_env({}).public_url == ""
    assert Settings.from_env({}).trusted_proxies == ()


def test_an_untouched_request_skips_the_middleware() -> None:
    from opentrace.app import create_app
    from opentrace.proxy import forwarded

    plain = create_app(Settings())
    proxied = create_app(Settings(public_url="https://opentrace.example.com"))

    assert forwarded not in plain.middlewares
    assert proxied.middlewares[0] is forwarded
