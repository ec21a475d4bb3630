"""Forwarded headers count only from trusted proxies.

The scheme is the WSGI server's (``wsgi.url_scheme``) unless the connection
comes from an address in the ``trusted_proxies`` setting; then
``X-Forwarded-Proto``, ``X-Forwarded-Host``, ``X-Forwarded-Port`` and RFC 7239
``Forwarded`` say how the client reached the proxy, taking the value the
nearest proxy set (the last of a comma list, the last ``Forwarded``
element). When two headers disagree the less secure wins. Underscore
variants (``X_Forwarded_Proto``) never count: the WSGI servers drop them.
"""

from __future__ import annotations

import ipaddress
import typing as t

import pytest
from conftest import send_raw
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_enforce_https import SettingsError
from flask_enforce_https.proxies import (
    Origin,
    is_trusted,
    last_forwarded_element,
    request_origin,
)
from flask_enforce_https.settings import Network

PROXIES = ["127.0.0.1", "10.0.0.0/8"]
TRUSTED = {"environment": {"trusted_proxies": PROXIES}}
TRUSTED_HSTS = {"environment": {"trusted_proxies": PROXIES, "hsts": True}}
HSTS = {"environment": {"hsts": True}}

HSTS_VALUE = "max-age=31536000"
EXAMPLE = "http://example.com"

TRUSTED_ADDRESSES = ["127.0.0.1", "10.1.2.3", "::ffff:127.0.0.1", "::ffff:10.1.2.3"]
TRUSTED_IDS = ["loopback", "network", "mapped-loopback", "mapped-network"]
UNTRUSTED_ADDRESSES = [
    "203.0.113.9",
    "127.0.0.2",
    "11.0.0.1",
    "::1",
    "::ffff:203.0.113.9",
    "unix:",
    "",
    "localhost",
    "127.0.0.1:8080",
    "10.1.2.3, 127.0.0.1",
]
UNTRUSTED_IDS = [
    "public",
    "other-loopback",
    "outside-network",
    "ipv6-loopback",
    "mapped-public",
    "unix-socket",
    "empty",
    "name",
    "with-port",
    "list",
]


def networks(*values: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v) for v in values)


def get(
    client: FlaskClient,
    path: str,
    remote_addr: str,
    headers: dict[str, str] | None = None,
    base_url: str = EXAMPLE,
) -> TestResponse:
    return client.get(
        path,
        base_url=base_url,
        headers=headers or {},
        environ_base={"REMOTE_ADDR": remote_addr},
    )


# --------------------------------------------------------------------------
# Untrusted clients cannot forge the scheme or the host
# --------------------------------------------------------------------------

FORGERIES = [
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Proto": "https, https"},
    {"Forwarded": "proto=https"},
    {"Forwarded": 'for=192.0.2.1;proto="https";host=shop.example.com'},
    {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
    {"X-Forwarded-Ssl": "on", "X-Forwarded-Scheme": "https"},
    {"Front-End-Https": "on", "X-Url-Scheme": "https"},
]
FORGERY_IDS = [
    "x-forwarded-proto",
    "x-forwarded-proto-list",
    "forwarded",
    "forwarded-full",
    "both",
    "with-port",
    "other-headers",
    "more-other-headers",
]


@pytest.mark.parametrize("settings", [{}, HSTS], ids=["no-settings", "hsts"])
@pytest.mark.parametrize("headers", FORGERIES, ids=FORGERY_IDS)
def test_no_trusted_proxies_configured(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # The test client's REMOTE_ADDR is loopback, which trusts nothing here.
    response = get(client, "/secure", "127.0.0.1", headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("settings", [TRUSTED_HSTS], ids=["trusted-hsts"])
@pytest.mark.parametrize("remote_addr", UNTRUSTED_ADDRESSES, ids=UNTRUSTED_IDS)
@pytest.mark.parametrize("headers", FORGERIES, ids=FORGERY_IDS)
def test_untrusted_remote_cannot_forge_https(
    client: FlaskClient, remote_addr: str, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", remote_addr, headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("settings", [HSTS, TRUSTED_HSTS], ids=["hsts", "trusted"])
@pytest.mark.parametrize("headers", FORGERIES, ids=FORGERY_IDS)
def test_forged_https_on_a_page_that_does_not_redirect_gets_no_hsts(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # /api/status is an integration that needs no TLS even with hsts on,
    # so it is served over HTTP: HSTS must not follow a forged https.
    response = get(client, "/api/status", "203.0.113.9", headers)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("settings", [{}, TRUSTED], ids=["no-settings", "trusted"])
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "evil.com"},
        {"X-Forwarded-Host": "evil.com", "X-Forwarded-Proto": "http"},
        {"X-Forwarded-Host": "shop.example.com, evil.com"},
        {"Forwarded": "host=evil.com"},
        {"Forwarded": 'proto=http;host="evil.com"'},
        {"X-Forwarded-Port": "8443", "X-Forwarded-Host": "evil.com:8443"},
        {"X-Forwarded-Server": "evil.com", "X-Host": "evil.com"},
    ],
    ids=[
        "x-forwarded-host",
        "with-proto",
        "list",
        "forwarded",
        "forwarded-quoted",
        "with-port",
        "other-headers",
    ],
)
def test_untrusted_remote_cannot_move_the_location(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", "203.0.113.9", headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"


@pytest.mark.parametrize("settings", [TRUSTED_HSTS], ids=["trusted-hsts"])
def test_untrusted_remote_cannot_downgrade_a_tls_connection(
    client: FlaskClient,
) -> None:
    # wsgi.url_scheme is https: an untrusted X-Forwarded-Proto: http is
    # ignored, so there is no redirect loop and HSTS is sent.
    response = get(
        client,
        "/secure",
        "203.0.113.9",
        {"X-Forwarded-Proto": "http", "Forwarded": "proto=http"},
        base_url="https://example.com",
    )
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS_VALUE


# --------------------------------------------------------------------------
# Trusted proxies say how the client connected
# --------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [TRUSTED_HSTS], ids=["trusted-hsts"])
@pytest.mark.parametrize("remote_addr", TRUSTED_ADDRESSES, ids=TRUSTED_IDS)
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Proto": "HTTPS"},
        {"X-Forwarded-Proto": " https "},
        {"X-Forwarded-Proto": "http, https"},
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com"},
        {"Forwarded": "proto=https"},
        {"Forwarded": "for=192.0.2.1;proto=https;host=shop.example.com"},
        {"Forwarded": 'for="[2001:db8::1]:4711";proto="https"'},
        {"Forwarded": "proto=http, proto=https"},
        {"Forwarded": "Proto=HTTPS"},
        {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"},
    ],
    ids=[
        "x-forwarded-proto",
        "uppercase",
        "spaces",
        "last-of-list",
        "with-host",
        "forwarded",
        "forwarded-full",
        "forwarded-quoted",
        "last-element",
        "forwarded-uppercase",
        "both-agree",
    ],
)
def test_trusted_proxy_https_is_served_with_hsts(
    client: FlaskClient, remote_addr: str, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", remote_addr, headers)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "secure"
    assert "Location" not in response.headers
    assert response.headers["Strict-Transport-Security"] == HSTS_VALUE


@pytest.mark.parametrize("settings", [TRUSTED], ids=["trusted"])
@pytest.mark.parametrize("remote_addr", TRUSTED_ADDRESSES, ids=TRUSTED_IDS)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example.com"},
            "https://shop.example.com/secure",
        ),
        (
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.com, shop.ex.com"},
            "https://shop.ex.com/secure",
        ),
        (
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example.com:80"},
            "https://shop.example.com/secure",
        ),
        (
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "[2001:db8::1]:80"},
            "https://[2001:db8::1]/secure",
        ),
        ({"X-Forwarded-Proto": "http"}, "https://example.com/secure"),
        ({"X-Forwarded-Proto": "https, http"}, "https://example.com/secure"),
        ({"X-Forwarded-Proto": "wss"}, "https://example.com/secure"),
        ({"X-Forwarded-Proto": ""}, "https://example.com/secure"),
        ({"X-Forwarded-Proto": "https,"}, "https://example.com/secure"),
        (
            {"Forwarded": "proto=http;host=shop.example.com"},
            "https://shop.example.com/secure",
        ),
        (
            {"Forwarded": 'proto=http;host="shop.example.com"'},
            "https://shop.example.com/secure",
        ),
        (
            {"Forwarded": "host=evil.com;proto=https, host=shop.example.com"},
            "https://shop.example.com/secure",
        ),
        ({"Forwarded": "proto=https, proto=http"}, "https://example.com/secure"),
        ({"Forwarded": "proto=https, for=192.0.2.1"}, "https://example.com/secure"),
        ({"Forwarded": ";;==,"}, "https://example.com/secure"),
        ({"Forwarded": ""}, "https://example.com/secure"),
        ({"Forwarded": '"'}, "https://example.com/secure"),
        ({"Forwarded": 'proto="https'}, "https://example.com/secure"),
        ({"Forwarded": "proto"}, "https://example.com/secure"),
        ({"Forwarded": "=https"}, "https://example.com/secure"),
        (
            {"X-Forwarded-Proto": "https", "Forwarded": "proto=http"},
            "https://example.com/secure",
        ),
        (
            {"X-Forwarded-Proto": "http", "Forwarded": "proto=https"},
            "https://example.com/secure",
        ),
    ],
    ids=[
        "forwarded-host",
        "last-forwarded-host",
        "forwarded-host-port",
        "forwarded-ipv6-host",
        "http",
        "list-last-is-http",
        "other-scheme",
        "empty",
        "trailing-comma",
        "forwarded",
        "forwarded-quoted-host",
        "forwarded-last-element-host",
        "forwarded-last-element-proto",
        "forwarded-last-element-without-proto",
        "forwarded-garbage",
        "forwarded-empty",
        "forwarded-lone-quote",
        "forwarded-unclosed-quote",
        "forwarded-no-value",
        "forwarded-no-name",
        "disagree-forwarded-http",
        "disagree-x-forwarded-http",
    ],
)
def test_trusted_proxy_http_is_redirected(
    client: FlaskClient, remote_addr: str, headers: dict[str, str], expected: str
) -> None:
    response = get(client, "/secure", remote_addr, headers)
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


@pytest.mark.parametrize("settings", [TRUSTED], ids=["trusted"])
@pytest.mark.parametrize("remote_addr", ["127.0.0.1", "10.1.2.3"], ids=["lo", "net"])
def test_trusted_proxy_on_a_tls_connection_can_say_http(
    client: FlaskClient, remote_addr: str
) -> None:
    # The proxy reached us over TLS, but the client reached the proxy in
    # cleartext: what the client did is what counts.
    response = get(
        client,
        "/secure",
        remote_addr,
        {"X-Forwarded-Proto": "http"},
        base_url="https://example.com",
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"


@pytest.mark.parametrize("settings", [TRUSTED], ids=["trusted"])
@pytest.mark.parametrize(
    "forwarded_host",
    ["evil.com/x", "a@b", "a b", "", "evil.com:99999"],
    ids=["slash", "at-sign", "space", "empty", "bad-port"],
)
def test_trusted_proxy_invalid_forwarded_host_is_400(
    client: FlaskClient, forwarded_host: str
) -> None:
    # An empty X-Forwarded-Host counts as absent, so the Host header serves.
    response = get(
        client,
        "/secure",
        "10.1.2.3",
        {
            "Host": "a@b",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": forwarded_host,
        },
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("settings", [TRUSTED_HSTS], ids=["trusted-hsts"])
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost"},
        {"Forwarded": "proto=https;host=localhost"},
    ],
    ids=["x-forwarded-host", "forwarded"],
)
def test_hsts_exclusion_uses_the_forwarded_host(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", "10.1.2.3", headers)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("settings", [TRUSTED], ids=["trusted"])
@pytest.mark.parametrize(
    ("remote_addr", "headers", "status"),
    [
        ("127.0.0.1", {"X-Forwarded-Proto": "https"}, 200),
        ("10.1.2.3", {"Forwarded": "proto=https"}, 200),
        ("::ffff:127.0.0.1", {"X-Forwarded-Proto": "https"}, 200),
        ("127.0.0.1", {}, 403),
        ("127.0.0.1", {"X-Forwarded-Proto": "http"}, 403),
        ("127.0.0.1", {"X-Forwarded-Proto": "https, http"}, 403),
        ("127.0.0.1", {"X-Forwarded-Proto": "https", "Forwarded": "proto=http"}, 403),
        ("203.0.113.9", {"X-Forwarded-Proto": "https"}, 403),
        ("unix:", {"X-Forwarded-Proto": "https"}, 403),
    ],
    ids=[
        "trusted-https",
        "trusted-forwarded",
        "trusted-mapped",
        "trusted-no-header",
        "trusted-http",
        "trusted-list-http",
        "trusted-disagree",
        "untrusted-https",
        "unparsable-https",
    ],
)
def test_rest_endpoint(
    client: FlaskClient, remote_addr: str, headers: dict[str, str], status: int
) -> None:
    response = get(client, "/api/orders", remote_addr, headers)
    assert response.status_code == status
    assert "Location" not in response.headers
    if status == 403:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 403
    else:
        assert response.get_json() == {"orders": []}


# --------------------------------------------------------------------------
# Underscore variants, over a real socket
# --------------------------------------------------------------------------


def send(port: int, head: bytes) -> tuple[int, dict[str, list[str]]]:
    """Send a raw request head; return the status and headers by lowercase
    name."""
    response = send_raw(port, head)
    return response.status, response.by_name()


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}}],
    ids=["loopback-trusted"],
)
@pytest.mark.parametrize(
    "header",
    [
        b"X_Forwarded_Proto: https",
        b"x_forwarded_proto: https",
        b"X-Forwarded_Proto: https",
        b"X_FORWARDED_PROTO: https",
    ],
    ids=["underscores", "lowercase", "mixed", "uppercase"],
)
def test_underscore_variant_never_counts_over_the_wire(
    port: int, header: bytes
) -> None:
    # Loopback is a trusted proxy here, so the dashed header would count.
    # werkzeug's server drops header names with underscores before they
    # reach the environ, where they would be HTTP_X_FORWARDED_PROTO too;
    # gunicorn (22 and later, header_map = "drop") drops them as well.
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n" + header + b"\r\n\r\n",
    )
    assert status == 301
    assert headers["location"] == ["https://example.com/secure"]
    assert "strict-transport-security" not in headers


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}}],
    ids=["loopback-trusted"],
)
def test_underscore_host_never_counts_over_the_wire(port: int) -> None:
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n"
        b"X_Forwarded_Host: evil.com\r\nX-Forwarded-Proto: http\r\n\r\n",
    )
    assert status == 301
    assert headers["location"] == ["https://example.com/secure"]


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}}],
    ids=["loopback-trusted"],
)
@pytest.mark.parametrize(
    "header",
    [
        b"X-Forwarded-Proto: https",
        b"x-forwarded-proto: https",
        b"Forwarded: for=192.0.2.1;proto=https",
    ],
    ids=["dashes", "lowercase", "forwarded"],
)
def test_dashed_header_counts_over_the_wire(port: int, header: bytes) -> None:
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n" + header + b"\r\n\r\n",
    )
    assert status == 200
    assert "location" not in headers
    assert headers["strict-transport-security"] == [HSTS_VALUE]


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"trusted_proxies": ["127.0.0.1"]}}],
    ids=["loopback-trusted"],
)
def test_repeated_header_lines_over_the_wire(port: int) -> None:
    # The server joins repeated lines with a comma; the last (the nearest
    # proxy's) wins.
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n"
        b"X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n\r\n",
    )
    assert status == 301
    assert headers["location"] == ["https://example.com/secure"]


# --------------------------------------------------------------------------
# Units: last_forwarded_element, is_trusted, request_origin
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("proto=https", {"proto": "https"}),
        (
            "for=192.0.2.1;proto=https;host=shop.example.com",
            {"for": "192.0.2.1", "proto": "https", "host": "shop.example.com"},
        ),
        ("proto=https, proto=http", {"proto": "http"}),
        ("proto=http,proto=https", {"proto": "https"}),
        ("for=a;proto=https, for=b", {"for": "b"}),
        ('host="shop.example.com"', {"host": "shop.example.com"}),
        ('for="a,b";proto=https', {"for": "a,b", "proto": "https"}),
        ('proto=http, for="x, y";proto=https', {"for": "x, y", "proto": "https"}),
        ('for="a;b";proto=https', {"for": "a;b", "proto": "https"}),
        ('for="a;proto=http";proto=https', {"for": "a;proto=http", "proto": "https"}),
        ('for="[2001:db8::1]:4711"', {"for": "[2001:db8::1]:4711"}),
        (r'for="a\"b";proto=https', {"for": 'a"b', "proto": "https"}),
        (r'for="a\",b";proto=https', {"for": 'a",b', "proto": "https"}),
        (r'for="a\\";proto=https', {"for": "a\\", "proto": "https"}),
        (
            "Proto=HTTPS;HOST=Shop.Example.com",
            {"proto": "HTTPS", "host": "Shop.Example.com"},
        ),
        ("PROTO=http;proto=https", {"proto": "https"}),
        (" proto = https ; host = a ", {"proto": "https", "host": "a"}),
        (";;==,", {}),
        ("", {}),
        ("proto=https,", {}),
        ("proto", {}),
        ("=https", {}),
        ('"', {}),
        ("proto=https;;junk", {"proto": "https"}),
    ],
    ids=[
        "one-pair",
        "three-pairs",
        "last-element",
        "last-element-no-space",
        "last-element-only",
        "quoted",
        "quoted-comma",
        "quoted-comma-in-last",
        "quoted-semicolon",
        "quoted-pair-lookalike",
        "quoted-ipv6",
        "escaped-quote",
        "escaped-quote-then-comma",
        "escaped-backslash",
        "case-insensitive-names",
        "repeated-name-last-wins",
        "whitespace",
        "garbage",
        "empty",
        "trailing-comma",
        "no-equals",
        "no-name",
        "lone-quote",
        "junk-pair",
    ],
)
def test_last_forwarded_element(value: str, expected: dict[str, str]) -> None:
    assert last_forwarded_element(value) == expected


@pytest.mark.parametrize(
    ("remote_addr", "trusted", "expected"),
    [
        ("127.0.0.1", networks("127.0.0.1"), True),
        ("10.1.2.3", networks("10.0.0.0/8"), True),
        ("10.255.255.255", networks("10.0.0.0/8"), True),
        ("11.0.0.0", networks("10.0.0.0/8"), False),
        ("::ffff:127.0.0.1", networks("127.0.0.1"), True),
        ("::ffff:10.1.2.3", networks("10.0.0.0/8"), True),
        ("::ffff:203.0.113.9", networks("10.0.0.0/8"), False),
        ("::1", networks("::1"), True),
        ("2001:db8::5", networks("2001:db8::/32"), True),
        ("2001:db9::5", networks("2001:db8::/32"), False),
        ("::1", networks("127.0.0.1"), False),
        ("127.0.0.1", networks("::1"), False),
        ("203.0.113.9", networks("127.0.0.1", "10.0.0.0/8"), False),
        ("127.0.0.1", (), False),
        (None, networks("127.0.0.1"), False),
        ("", networks("127.0.0.1"), False),
        ("unix:", networks("127.0.0.1"), False),
        ("localhost", networks("127.0.0.1"), False),
        ("127.0.0.1:8080", networks("127.0.0.1"), False),
        (" 127.0.0.1", networks("127.0.0.1"), False),
        ("127.0.0.1/32", networks("127.0.0.1"), False),
        ("999.0.0.1", networks("0.0.0.0/0"), False),
    ],
    ids=[
        "address",
        "network",
        "network-edge",
        "outside-network",
        "mapped",
        "mapped-network",
        "mapped-outside",
        "ipv6",
        "ipv6-network",
        "ipv6-outside",
        "ipv6-vs-ipv4",
        "ipv4-vs-ipv6",
        "untrusted",
        "nothing-trusted",
        "none",
        "empty",
        "unix-socket",
        "name",
        "with-port",
        "leading-space",
        "cidr",
        "out-of-range",
    ],
)
def test_is_trusted(
    remote_addr: str | None, trusted: tuple[Network, ...], expected: bool
) -> None:
    assert is_trusted(remote_addr, trusted) is expected


def _environ(remote_addr: str, **headers: str) -> dict[str, t.Any]:
    environ: dict[str, t.Any] = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "example.com:8080",
        "SERVER_PORT": "8080",
        "REMOTE_ADDR": remote_addr,
    }
    environ.update({f"HTTP_{k}": v for k, v in headers.items()})
    return environ


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            _environ("203.0.113.9", X_FORWARDED_PROTO="https"),
            Origin("http", "example.com:8080", 8080, False),
        ),
        (
            _environ(
                "203.0.113.9",
                X_FORWARDED_HOST="evil.com",
                X_FORWARDED_PORT="443",
                FORWARDED="proto=https;host=evil.com",
            ),
            Origin("http", "example.com:8080", 8080, False),
        ),
        (
            _environ("10.1.2.3"),
            Origin("http", "example.com:8080", 8080, False),
        ),
        (
            _environ("10.1.2.3", X_FORWARDED_PROTO="https"),
            Origin("https", "example.com:8080", 8080, True),
        ),
        (
            _environ(
                "10.1.2.3",
                X_FORWARDED_PROTO="https",
                X_FORWARDED_HOST="shop.example.com",
                X_FORWARDED_PORT="80, 443",
            ),
            Origin("https", "shop.example.com", 443, True),
        ),
        (
            _environ("10.1.2.3", X_FORWARDED_HOST="shop.example.com:8443"),
            Origin("http", "shop.example.com:8443", 8443, True),
        ),
        (
            _environ("10.1.2.3", X_FORWARDED_PORT="99999"),
            Origin("http", "example.com:8080", 8080, False),
        ),
        (
            _environ("10.1.2.3", FORWARDED='proto=https;host="[2001:db8::1]:8443"'),
            Origin("https", "[2001:db8::1]:8443", 8443, True),
        ),
        (
            _environ("10.1.2.3", X_FORWARDED_PROTO="https", FORWARDED="proto=http"),
            Origin("http", "example.com:8080", 8080, True),
        ),
        (
            _environ("10.1.2.3", FORWARDED=";;==,"),
            Origin("http", "example.com:8080", 8080, False),
        ),
    ],
    ids=[
        "untrusted-proto",
        "untrusted-everything",
        "trusted-nothing",
        "trusted-proto",
        "trusted-host-port",
        "trusted-host-with-port",
        "trusted-bad-port",
        "trusted-forwarded-ipv6",
        "trusted-disagree",
        "trusted-garbage",
    ],
)
def test_request_origin(environ: dict[str, t.Any], expected: Origin) -> None:
    assert request_origin(environ, networks(*PROXIES)) == expected


# --------------------------------------------------------------------------
# Invalid trusted_proxies
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"environment": {"trusted_proxies": value}}
        for value in (
            ["not-an-ip"],
            ["10.0.0.1/8"],
            "127.0.0.1",
            ["127.0.0.1", "localhost"],
            ["10.0.0.0/33"],
            [""],
            [127],
            {"127.0.0.1": True},
            None,
        )
    ],
    ids=[
        "not-an-ip",
        "host-bits-set",
        "string",
        "one-bad",
        "bad-prefix",
        "empty-string",
        "not-a-string",
        "mapping",
        "none",
    ],
)
def test_invalid_trusted_proxies(
    request: pytest.FixtureRequest, settings: t.Any
) -> None:
    # The app fixture runs create_app, and so init_app.
    with pytest.raises(SettingsError, match=r"environment\.trusted_proxies") as caught:
        request.getfixturevalue("app")
    assert caught.value.key == "environment.trusted_proxies"
    assert caught.value.source == "ENFORCE_HTTPS_SETTINGS"


@pytest.mark.parametrize(
    "port",
    ["¹", "٣", "8443x", "-1", "99999"],
    ids=["superscript", "arabic-indic", "suffix", "negative", "too-big"],
)
def test_odd_forwarded_port_is_ignored_not_a_500(port: str) -> None:
    # str.isdigit() is true for "¹", which int() refuses: found by the
    # property suite.
    origin = request_origin(
        {
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "example.com",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_PORT": port,
        },
        networks("127.0.0.1"),
    )
    assert origin.port is None
