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

import contextlib
import time
import typing as t

import pytest
from conftest import create_app, send_raw
from flask import Flask, request, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_enforce_https import SettingsError
from flask_enforce_https.proxies import MalformedHeader, forwarded_elements

PROXIES = ["127.0.0.1", "10.0.0.0/8"]
TRUSTED = {"environment": {"trusted_proxies": PROXIES}}
TRUSTED_HSTS = {"environment": {"trusted_proxies": PROXIES, "hsts": True}}
HSTS = {"environment": {"hsts": True}}

HSTS_VALUE = "max-age=31536000"
EXAMPLE = "http://example.com"

TRUSTED_ADDRESSES = [
    pytest.param("127.0.0.1", id="loopback"),
    pytest.param("10.1.2.3", id="network"),
    pytest.param("::ffff:127.0.0.1", id="mapped-loopback"),
    pytest.param("::ffff:10.1.2.3", id="mapped-network"),
]
UNTRUSTED_ADDRESSES = [
    pytest.param("203.0.113.9", id="public"),
    pytest.param("127.0.0.2", id="other-loopback"),
    pytest.param("11.0.0.1", id="outside-network"),
    pytest.param("::1", id="ipv6-loopback"),
    pytest.param("::ffff:203.0.113.9", id="mapped-public"),
    pytest.param("unix:", id="unix-socket"),
    pytest.param("", id="empty"),
    pytest.param("localhost", id="name"),
    pytest.param("127.0.0.1:8080", id="with-port"),
    pytest.param("10.1.2.3, 127.0.0.1", id="list"),
]


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
    pytest.param({"X-Forwarded-Proto": "https"}, id="x-forwarded-proto"),
    pytest.param({"X-Forwarded-Proto": "https, https"}, id="x-forwarded-proto-list"),
    pytest.param({"Forwarded": "proto=https"}, id="forwarded"),
    pytest.param(
        {"Forwarded": 'for=192.0.2.1;proto="https";host=shop.example.com'},
        id="forwarded-full",
    ),
    pytest.param({"X-Forwarded-Proto": "https", "Forwarded": "proto=https"}, id="both"),
    pytest.param(
        {"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"}, id="with-port"
    ),
    pytest.param(
        {"X-Forwarded-Ssl": "on", "X-Forwarded-Scheme": "https"}, id="other-headers"
    ),
    pytest.param(
        {"Front-End-Https": "on", "X-Url-Scheme": "https"}, id="more-other-headers"
    ),
]


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="no-settings"),
        pytest.param(HSTS, id="hsts"),
    ],
)
@pytest.mark.parametrize("headers", FORGERIES)
def test_no_trusted_proxies_configured(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # The test client's REMOTE_ADDR is loopback, which trusts nothing here.
    response = get(client, "/secure", "127.0.0.1", headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.settings(TRUSTED_HSTS)
@pytest.mark.parametrize("remote_addr", UNTRUSTED_ADDRESSES)
@pytest.mark.parametrize("headers", FORGERIES)
def test_untrusted_remote_cannot_forge_https(
    client: FlaskClient, remote_addr: str, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", remote_addr, headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(HSTS, id="hsts"),
        pytest.param(TRUSTED_HSTS, id="trusted"),
    ],
)
@pytest.mark.parametrize("headers", FORGERIES)
def test_forged_https_on_a_page_that_does_not_redirect_gets_no_hsts(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    # /api/status is an integration that needs no TLS even with hsts on,
    # so it is served over HTTP: HSTS must not follow a forged https.
    response = get(client, "/api/status", "203.0.113.9", headers)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({}, id="no-settings"),
        pytest.param(TRUSTED, id="trusted"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Forwarded-Host": "evil.com"}, id="x-forwarded-host"),
        pytest.param(
            {"X-Forwarded-Host": "evil.com", "X-Forwarded-Proto": "http"},
            id="with-proto",
        ),
        pytest.param({"X-Forwarded-Host": "shop.example.com, evil.com"}, id="list"),
        pytest.param({"Forwarded": "host=evil.com"}, id="forwarded"),
        pytest.param(
            {"Forwarded": 'proto=http;host="evil.com"'}, id="forwarded-quoted"
        ),
        pytest.param(
            {"X-Forwarded-Port": "8443", "X-Forwarded-Host": "evil.com:8443"},
            id="with-port",
        ),
        pytest.param(
            {"X-Forwarded-Server": "evil.com", "X-Host": "evil.com"}, id="other-headers"
        ),
    ],
)
def test_untrusted_remote_cannot_move_the_location(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", "203.0.113.9", headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/secure"


@pytest.mark.settings(TRUSTED_HSTS)
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


@pytest.mark.settings(TRUSTED_HSTS)
@pytest.mark.parametrize("remote_addr", TRUSTED_ADDRESSES)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Forwarded-Proto": "https"}, id="x-forwarded-proto"),
        pytest.param({"X-Forwarded-Proto": "HTTPS"}, id="uppercase"),
        pytest.param({"X-Forwarded-Proto": " https "}, id="spaces"),
        pytest.param({"X-Forwarded-Proto": "http, https"}, id="last-of-list"),
        pytest.param(
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com"},
            id="with-host",
        ),
        pytest.param({"Forwarded": "proto=https"}, id="forwarded"),
        pytest.param(
            {"Forwarded": "for=192.0.2.1;proto=https;host=shop.example.com"},
            id="forwarded-full",
        ),
        pytest.param(
            {"Forwarded": 'for="[2001:db8::1]:4711";proto="https"'},
            id="forwarded-quoted",
        ),
        pytest.param({"Forwarded": "proto=http, proto=https"}, id="last-element"),
        pytest.param({"Forwarded": "Proto=HTTPS"}, id="forwarded-uppercase"),
        pytest.param(
            {"X-Forwarded-Proto": "https", "Forwarded": "proto=https"}, id="both-agree"
        ),
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


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize("remote_addr", TRUSTED_ADDRESSES)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param(
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example.com"},
            "https://shop.example.com/secure",
            id="forwarded-host",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.com, shop.ex.com"},
            "https://shop.ex.com/secure",
            id="last-forwarded-host",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "shop.example.com:80"},
            "https://shop.example.com/secure",
            id="forwarded-host-port",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "[2001:db8::1]:80"},
            "https://[2001:db8::1]/secure",
            id="forwarded-ipv6-host",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "http"}, "https://example.com/secure", id="http"
        ),
        pytest.param(
            {"X-Forwarded-Proto": "https, http"},
            "https://example.com/secure",
            id="list-last-is-http",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "wss"},
            "https://example.com/secure",
            id="other-scheme",
        ),
        pytest.param(
            {"X-Forwarded-Proto": ""}, "https://example.com/secure", id="empty"
        ),
        pytest.param(
            {"X-Forwarded-Proto": "https,"},
            "https://example.com/secure",
            id="trailing-comma",
        ),
        pytest.param(
            {"Forwarded": "proto=http;host=shop.example.com"},
            "https://shop.example.com/secure",
            id="forwarded",
        ),
        pytest.param(
            {"Forwarded": 'proto=http;host="shop.example.com"'},
            "https://shop.example.com/secure",
            id="forwarded-quoted-host",
        ),
        pytest.param(
            {"Forwarded": "host=evil.com;proto=https, host=shop.example.com"},
            "https://shop.example.com/secure",
            id="forwarded-last-element-host",
        ),
        pytest.param(
            {"Forwarded": "proto=https, proto=http"},
            "https://example.com/secure",
            id="forwarded-last-element-proto",
        ),
        pytest.param(
            {"Forwarded": "proto=https, for=192.0.2.1"},
            "https://example.com/secure",
            id="forwarded-last-element-without-proto",
        ),
        pytest.param(
            {"Forwarded": ";;==,"}, "https://example.com/secure", id="forwarded-garbage"
        ),
        pytest.param(
            {"Forwarded": ""}, "https://example.com/secure", id="forwarded-empty"
        ),
        pytest.param(
            {"Forwarded": '"'}, "https://example.com/secure", id="forwarded-lone-quote"
        ),
        pytest.param(
            {"Forwarded": 'proto="https'},
            "https://example.com/secure",
            id="forwarded-unclosed-quote",
        ),
        pytest.param(
            {"Forwarded": "proto"},
            "https://example.com/secure",
            id="forwarded-no-value",
        ),
        pytest.param(
            {"Forwarded": "=https"},
            "https://example.com/secure",
            id="forwarded-no-name",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "https", "Forwarded": "proto=http"},
            "https://example.com/secure",
            id="disagree-forwarded-http",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "http", "Forwarded": "proto=https"},
            "https://example.com/secure",
            id="disagree-x-forwarded-http",
        ),
    ],
)
def test_trusted_proxy_http_is_redirected(
    client: FlaskClient, remote_addr: str, headers: dict[str, str], expected: str
) -> None:
    response = get(client, "/secure", remote_addr, headers)
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    "remote_addr",
    [
        pytest.param("127.0.0.1", id="lo"),
        pytest.param("10.1.2.3", id="net"),
    ],
)
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


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    "forwarded_host",
    [
        pytest.param("evil.com/x", id="slash"),
        pytest.param("a@b", id="at-sign"),
        pytest.param("a b", id="space"),
        pytest.param("", id="empty"),
        pytest.param("evil.com:99999", id="bad-port"),
    ],
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


@pytest.mark.settings(TRUSTED_HSTS)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost"},
            id="x-forwarded-host",
        ),
        pytest.param({"Forwarded": "proto=https;host=localhost"}, id="forwarded"),
    ],
)
def test_hsts_exclusion_uses_the_forwarded_host(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = get(client, "/secure", "10.1.2.3", headers)
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    ("remote_addr", "headers", "status"),
    [
        pytest.param(
            "127.0.0.1", {"X-Forwarded-Proto": "https"}, 200, id="trusted-https"
        ),
        pytest.param(
            "10.1.2.3", {"Forwarded": "proto=https"}, 200, id="trusted-forwarded"
        ),
        pytest.param(
            "::ffff:127.0.0.1", {"X-Forwarded-Proto": "https"}, 200, id="trusted-mapped"
        ),
        pytest.param("127.0.0.1", {}, 403, id="trusted-no-header"),
        pytest.param(
            "127.0.0.1", {"X-Forwarded-Proto": "http"}, 403, id="trusted-http"
        ),
        pytest.param(
            "127.0.0.1",
            {"X-Forwarded-Proto": "https, http"},
            403,
            id="trusted-list-http",
        ),
        pytest.param(
            "127.0.0.1",
            {"X-Forwarded-Proto": "https", "Forwarded": "proto=http"},
            403,
            id="trusted-disagree",
        ),
        pytest.param(
            "203.0.113.9", {"X-Forwarded-Proto": "https"}, 403, id="untrusted-https"
        ),
        pytest.param(
            "unix:", {"X-Forwarded-Proto": "https"}, 403, id="unparsable-https"
        ),
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


@pytest.mark.settings({"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}})
@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"X_Forwarded_Proto: https", id="underscores"),
        pytest.param(b"x_forwarded_proto: https", id="lowercase"),
        pytest.param(b"X-Forwarded_Proto: https", id="mixed"),
        pytest.param(b"X_FORWARDED_PROTO: https", id="uppercase"),
    ],
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


@pytest.mark.settings({"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}})
def test_underscore_host_never_counts_over_the_wire(port: int) -> None:
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n"
        b"X_Forwarded_Host: evil.com\r\nX-Forwarded-Proto: http\r\n\r\n",
    )
    assert status == 301
    assert headers["location"] == ["https://example.com/secure"]


@pytest.mark.settings({"environment": {"trusted_proxies": ["127.0.0.1"], "hsts": True}})
@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"X-Forwarded-Proto: https", id="dashes"),
        pytest.param(b"x-forwarded-proto: https", id="lowercase"),
        pytest.param(b"Forwarded: for=192.0.2.1;proto=https", id="forwarded"),
    ],
)
def test_dashed_header_counts_over_the_wire(port: int, header: bytes) -> None:
    status, headers = send(
        port,
        b"GET /secure HTTP/1.1\r\nHost: example.com\r\n" + header + b"\r\n\r\n",
    )
    assert status == 200
    assert "location" not in headers
    assert headers["strict-transport-security"] == [HSTS_VALUE]


@pytest.mark.settings({"environment": {"trusted_proxies": ["127.0.0.1"]}})
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
# A client's part of Forwarded never changes what the proxy's part says
# --------------------------------------------------------------------------

#: The proxy appends its element to whatever the client sent.
PROXY_ELEMENT = "for=203.0.113.9;proto=http;host=shop.example.com"


@pytest.mark.settings(TRUSTED_HSTS)
@pytest.mark.parametrize(
    "client_part",
    [
        pytest.param('proto=https;x="', id="unterminated-quote"),
        pytest.param(
            'host=evil.com;proto=https;x="', id="unterminated-quote-with-host"
        ),
        pytest.param('x="\\"', id="escaped-backslash-then-quote"),
        pytest.param('for="a\\', id="escape-at-end"),
        pytest.param("proto=https;proto=https", id="repeated-proto"),
        pytest.param("proto=https;host=evil.com;", id="trailing-semicolon"),
        pytest.param('proto="https', id="unclosed-proto"),
        pytest.param("x=a b", id="space-in-value"),
        pytest.param("proto", id="no-value"),
        pytest.param("=https", id="no-name"),
    ],
)
def test_client_part_cannot_override_the_proxy_element(
    client: FlaskClient, client_part: str
) -> None:
    # Whether the client's part parses or not, the proxy said http: either
    # the proxy's element counts (a redirect to its host), or the header
    # cannot be read and the request counts as plain HTTP to the Host
    # header's host. Never served as HTTPS, never sent to evil.com.
    response = get(
        client, "/secure", "10.1.2.3", {"Forwarded": f"{client_part}, {PROXY_ELEMENT}"}
    )
    assert response.status_code == 301
    assert response.headers["Location"] in (
        "https://shop.example.com/secure",
        "https://example.com/secure",
    )
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.settings(TRUSTED_HSTS)
def test_unterminated_quote_falls_back_to_http_and_the_host_header(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Forwarded": f'host=evil.com;proto=https;x=", {PROXY_ELEMENT}'}
    for _ in range(2):
        response = get(client, "/secure", "10.1.2.3", headers)
        assert response.status_code == 301
        assert response.headers["Location"] == "https://example.com/secure"
    logged = [r for r in caplog.records if "cannot be parsed" in r.getMessage()]
    assert len(logged) <= 1  # once per process: an earlier test may have


@pytest.mark.settings(TRUSTED_HSTS)
@pytest.mark.parametrize(
    "forwarded",
    [
        pytest.param("for=2001:db8::1;proto=https", id="nginx-unquoted-ipv6"),
        pytest.param("for=[2001:db8::1]:4711;proto=https", id="unquoted-ipv6-port"),
        pytest.param("for=_hidden;by=10.0.0.1;proto=https", id="obfuscated"),
        pytest.param('for="[2001:db8::1]";proto=https;host="example.com"', id="quoted"),
        pytest.param("proto=https;host=example.com:80", id="unquoted-host-port"),
        pytest.param(
            'for=x;ext="a\x01b";proto=https', id="control-character-in-quotes"
        ),
    ],
)
def test_loose_values_of_ignored_parameters_are_tolerated(
    client: FlaskClient, forwarded: str
) -> None:
    # nginx's common for=$remote_addr writes IPv6 unquoted: refusing it would
    # send every IPv6 client round a redirect loop.
    response = get(client, "/secure", "10.1.2.3", {"Forwarded": forwarded})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS_VALUE


@pytest.mark.parametrize(
    ("value", "elements"),
    [
        pytest.param("proto=https", [{"proto": "https"}], id="one-pair"),
        pytest.param(
            "for=a;proto=https, for=b",
            [{"for": "a", "proto": "https"}, {"for": "b"}],
            id="two-elements",
        ),
        pytest.param(
            'for="a,b";proto=https',
            [{"for": "a,b", "proto": "https"}],
            id="quoted-comma",
        ),
        pytest.param(
            'for="a;proto=http";proto=https',
            [{"for": "a;proto=http", "proto": "https"}],
            id="quoted-pair-lookalike",
        ),
        pytest.param(
            r'for="a\",b";proto=https',
            [{"for": 'a",b', "proto": "https"}],
            id="escaped-quote",
        ),
        pytest.param("Proto=HTTPS", [{"proto": "HTTPS"}], id="names-any-case"),
        pytest.param("proto=https,", [{"proto": "https"}, {}], id="trailing-comma"),
        pytest.param("", [{}], id="empty"),
        pytest.param(
            " proto=https ; host=a ",
            [{"proto": "https", "host": "a"}],
            id="spaces-around-pairs",
        ),
    ],
)
def test_forwarded_elements(value: str, elements: list[dict[str, str]]) -> None:
    assert forwarded_elements(value) == elements


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('proto="https', id="unterminated-quote"),
        pytest.param('"', id="lone-quote"),
        pytest.param("proto=https;PROTO=http", id="repeated-proto"),
        pytest.param("host=a;host=b", id="repeated-host"),
        pytest.param("proto=ht/tps", id="proto-not-a-token"),
        pytest.param("proto = https", id="space-around-equals"),
        pytest.param("proto", id="no-value"),
        pytest.param("=https", id="no-name"),
        pytest.param('for=a"b', id="quote-in-bare-value"),
    ],
)
def test_malformed_forwarded(value: str) -> None:
    with pytest.raises(MalformedHeader):
        forwarded_elements(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("for=x," + " " * 32768 + "x", id="spaces-after-a-comma"),
        pytest.param("for=x;" + " " * 32768 + "x", id="spaces-after-a-semicolon"),
        pytest.param(", " * 16384, id="empty-elements"),
    ],
)
def test_a_long_forwarded_header_is_read_in_linear_time(value: str) -> None:
    # A 32 KB header took seconds of CPU when runs of spaces could be
    # matched every way round an empty pair.
    started = time.perf_counter()
    with contextlib.suppress(MalformedHeader):
        forwarded_elements(value)
    assert time.perf_counter() - started < 0.5


# --------------------------------------------------------------------------
# When the proxy's headers disagree on the host, neither counts
# --------------------------------------------------------------------------

DISAGREEING = {
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Host": "evil.com",
    "Forwarded": "proto=http;host=shop.example.com",
}


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        pytest.param("/secure", "text/html", id="screen"),
        pytest.param("/api/orders", "application/problem+json", id="rest"),
        pytest.param("/page", "text/html", id="open-screen"),
    ],
)
def test_disagreeing_hosts_are_a_400(
    client: FlaskClient, path: str, mimetype: str
) -> None:
    response = get(client, path, "10.1.2.3", DISAGREEING)
    assert response.status_code == 400
    assert response.mimetype == mimetype
    assert "Location" not in response.headers


@pytest.mark.settings(TRUSTED)
@pytest.mark.config(ENFORCE_HTTPS_HOST="www.example.com")
def test_disagreeing_hosts_go_to_the_configured_host(client: FlaskClient) -> None:
    response = get(client, "/secure", "10.1.2.3", DISAGREEING)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://www.example.com/secure"
    served = get(client, "/page", "10.1.2.3", DISAGREEING)
    assert served.status_code == 200


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            {
                "X-Forwarded-Host": "shop.example.com",
                "Forwarded": "host=Shop.Example.COM",
            },
            id="same-host-any-case",
        ),
        pytest.param(
            {"X-Forwarded-Host": "shop.example.com"}, id="only-x-forwarded-host"
        ),
        pytest.param({"Forwarded": "host=shop.example.com"}, id="only-forwarded"),
    ],
)
def test_agreeing_hosts_count(client: FlaskClient, headers: dict[str, str]) -> None:
    response = get(client, "/secure", "10.1.2.3", headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://shop.example.com/secure"


# --------------------------------------------------------------------------
# The application sees the scheme and host the client used
# --------------------------------------------------------------------------


@pytest.fixture
def seeing_app(app: Flask) -> Flask:
    """The shop app with a view that reports what the app sees."""

    @app.get("/seen")
    def seen() -> dict[str, t.Any]:
        return {
            "scheme": request.scheme,
            "is_secure": request.is_secure,
            "host": request.host,
            "external": url_for("seen", _external=True),
            "original": request.environ.get("flask_enforce_https.orig"),
        }

    return app


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    ("headers", "scheme", "host", "external"),
    [
        pytest.param(
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"},
            "https",
            "shop.example.com",
            "https://shop.example.com/seen",
            id="x-forwarded",
        ),
        pytest.param(
            {"Forwarded": "proto=https;host=shop.example.com"},
            "https",
            "shop.example.com",
            "https://shop.example.com/seen",
            id="forwarded",
        ),
        pytest.param(
            {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "shop.example.com",
                "X-Forwarded-Port": "8443",
            },
            "https",
            "shop.example.com:8443",
            "https://shop.example.com:8443/seen",
            id="with-port",
        ),
        pytest.param(
            {"X-Forwarded-Proto": "https"},
            "https",
            "example.com",
            "https://example.com/seen",
            id="proto-only",
        ),
    ],
)
def test_the_app_sees_what_the_client_used(
    seeing_app: Flask, headers: dict[str, str], scheme: str, host: str, external: str
) -> None:
    response = get(seeing_app.test_client(), "/seen", "10.1.2.3", headers)
    seen = response.get_json()
    assert seen["scheme"] == scheme
    assert seen["is_secure"] is (scheme == "https")
    assert seen["host"] == host
    assert seen["external"] == external
    assert seen["original"]["wsgi.url_scheme"] == "http"
    assert seen["original"]["HTTP_HOST"] == "example.com"


@pytest.mark.settings(TRUSTED)
def test_the_app_sees_http_when_the_proxy_says_so(seeing_app: Flask) -> None:
    # The proxy talks TLS to the app; the client used plain HTTP.
    response = get(
        seeing_app.test_client(),
        "/seen",
        "10.1.2.3",
        {"X-Forwarded-Proto": "http"},
        base_url="https://example.com",
    )
    assert response.get_json()["scheme"] == "http"


@pytest.mark.settings(TRUSTED)
def test_untrusted_forwarded_headers_change_nothing_the_app_sees(
    seeing_app: Flask,
) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.com"}
    response = get(seeing_app.test_client(), "/seen", "203.0.113.9", headers)
    seen = response.get_json()
    assert (seen["scheme"], seen["host"], seen["original"]) == (
        "http",
        "example.com",
        None,
    )


@pytest.mark.settings(TRUSTED)
def test_werkzeug_slash_redirect_keeps_https_and_the_forwarded_host(
    client: FlaskClient,
) -> None:
    # /account is /account/ without its slash: werkzeug's own 308.
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.com"}
    response = get(client, "/account", "10.1.2.3", headers)
    assert response.status_code == 308
    assert response.headers["Location"] == "https://shop.example.com/account/"


# --------------------------------------------------------------------------
# IPv4-mapped IPv6 addresses are their IPv4 addresses, both ways
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "peer"),
    [
        pytest.param("::ffff:10.0.0.5", "10.0.0.5", id="mapped-entry"),
        pytest.param("::ffff:10.0.0.0/104", "10.9.8.7", id="mapped-network-entry"),
        pytest.param("10.0.0.5", "::ffff:10.0.0.5", id="mapped-peer"),
        pytest.param("::ffff:10.0.0.5", "::ffff:10.0.0.5", id="both-mapped"),
        pytest.param("::/0", "10.0.0.5", id="ipv6-everything"),
    ],
)
def test_ipv4_mapped_forms_match(entry: str, peer: str) -> None:
    app = create_app({"environment": {"trusted_proxies": [entry]}})
    response = get(app.test_client(), "/secure", peer, {"X-Forwarded-Proto": "https"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("entry", "peer"),
    [
        pytest.param("::ffff:10.0.0.5", "10.0.0.6", id="mapped-entry-other"),
        pytest.param("10.0.0.5", "::ffff:10.0.0.6", id="mapped-peer-other"),
        pytest.param("::1", "127.0.0.1", id="ipv6-loopback-is-not-ipv4"),
    ],
)
def test_ipv4_mapped_forms_match_nothing_else(entry: str, peer: str) -> None:
    app = create_app({"environment": {"trusted_proxies": [entry]}})
    response = get(app.test_client(), "/secure", peer, {"X-Forwarded-Proto": "https"})
    assert response.status_code == 301


# --------------------------------------------------------------------------
# Invalid trusted_proxies
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            {"environment": {"trusted_proxies": ["not-an-ip"]}}, id="not-an-ip"
        ),
        pytest.param(
            {"environment": {"trusted_proxies": ["10.0.0.1/8"]}}, id="host-bits-set"
        ),
        pytest.param({"environment": {"trusted_proxies": "127.0.0.1"}}, id="string"),
        pytest.param(
            {"environment": {"trusted_proxies": ["127.0.0.1", "localhost"]}},
            id="one-bad",
        ),
        pytest.param(
            {"environment": {"trusted_proxies": ["10.0.0.0/33"]}}, id="bad-prefix"
        ),
        pytest.param({"environment": {"trusted_proxies": [""]}}, id="empty-string"),
        pytest.param({"environment": {"trusted_proxies": [127]}}, id="not-a-string"),
        pytest.param(
            {"environment": {"trusted_proxies": {"127.0.0.1": True}}}, id="mapping"
        ),
        pytest.param({"environment": {"trusted_proxies": None}}, id="none"),
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


@pytest.mark.settings(TRUSTED)
@pytest.mark.parametrize(
    "port",
    [
        pytest.param("¹", id="superscript"),
        pytest.param("٣", id="arabic-indic"),
        pytest.param("8443x", id="suffix"),
        pytest.param("-1", id="negative"),
        pytest.param("99999", id="too-big"),
    ],
)
def test_odd_forwarded_port_is_ignored_not_a_500(seeing_app: Flask, port: str) -> None:
    # str.isdigit() is true for "¹", which int() refuses.
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "shop.example.com",
        "X-Forwarded-Port": port,
    }
    response = get(seeing_app.test_client(), "/seen", "127.0.0.1", headers)
    assert response.status_code == 200
    assert response.get_json()["host"] == "shop.example.com"
