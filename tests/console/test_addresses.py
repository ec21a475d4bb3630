"""The client's address the console counts failed sign-ins by: the peer,
or what trusted proxies say about their own peers, never what a client
says about itself."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_enforce_https.console.addresses import MAX_HEADER, client_address

from .conftest import BEHIND_PROXY, PROXY, create_console_app

TWO_HOPS: dict[str, t.Any] = {"environment": {"trusted_proxies": [PROXY, "10.0.0.0/8"]}}


def address_of(app: Flask, peer: str, headers: dict[str, str]) -> str:
    response = app.test_client().get(
        "/_https/address",
        base_url="https://console.example",
        headers=headers,
        environ_base={"REMOTE_ADDR": peer},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("settings", "peer", "headers", "expected"),
    [
        pytest.param(None, "192.0.2.1", {}, "192.0.2.1", id="no-proxy-the-peer"),
        pytest.param(
            None,
            "192.0.2.1",
            {"X-Forwarded-For": "198.51.100.7"},
            "192.0.2.1",
            id="untrusted-peer-x-forwarded-for-ignored",
        ),
        pytest.param(
            None,
            "192.0.2.1",
            {"Forwarded": "for=198.51.100.7"},
            "192.0.2.1",
            id="untrusted-peer-forwarded-ignored",
        ),
        pytest.param(
            BEHIND_PROXY,
            "192.0.2.1",
            {"X-Forwarded-For": "198.51.100.7"},
            "192.0.2.1",
            id="another-peer-than-the-trusted-proxy",
        ),
        pytest.param(
            None,
            "::ffff:192.0.2.1",
            {},
            "192.0.2.1",
            id="ipv4-mapped-peer-written-as-ipv4",
        ),
        pytest.param(BEHIND_PROXY, PROXY, {}, PROXY, id="trusted-proxy-no-header"),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.7"},
            "198.51.100.7",
            id="x-forwarded-for",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "203.0.113.66, 198.51.100.7"},
            "198.51.100.7",
            id="x-forwarded-for-last-element-not-the-clients-own",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.7:51234"},
            "198.51.100.7",
            id="x-forwarded-for-ipv4-with-port",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "[2001:DB8::7]:443"},
            "2001:db8::7",
            id="x-forwarded-for-ipv6-bracketed-with-port",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "2001:db8:0:0::7"},
            "2001:db8::7",
            id="x-forwarded-for-ipv6-compressed",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "::ffff:198.51.100.7"},
            "198.51.100.7",
            id="x-forwarded-for-ipv4-mapped",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.7, not-an-address"},
            PROXY,
            id="x-forwarded-for-not-an-address",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.7,"},
            PROXY,
            id="x-forwarded-for-empty-last-element",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "fe80::1%eth0"},
            PROXY,
            id="x-forwarded-for-zone-index",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.7:0"},
            PROXY,
            id="x-forwarded-for-port-zero",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "1.1.1.1, " * (MAX_HEADER // 9) + "198.51.100.7"},
            PROXY,
            id="x-forwarded-for-too-long",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": "for=198.51.100.8;proto=https"},
            "198.51.100.8",
            id="forwarded",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": 'for=203.0.113.66, for="[2001:db8::8]:4711"'},
            "2001:db8::8",
            id="forwarded-last-element-ipv6-quoted-with-port",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": "for=unknown"},
            PROXY,
            id="forwarded-unknown",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": "for=_hidden"},
            PROXY,
            id="forwarded-obfuscated",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": "for=198.51.100.8, proto=https"},
            PROXY,
            id="forwarded-last-element-without-for",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"Forwarded": 'for="198.51.100.8'},
            PROXY,
            id="forwarded-does-not-parse",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.9", "Forwarded": "for=198.51.100.9"},
            "198.51.100.9",
            id="both-agree",
        ),
        pytest.param(
            BEHIND_PROXY,
            PROXY,
            {"X-Forwarded-For": "198.51.100.9", "Forwarded": "for=203.0.113.66"},
            PROXY,
            id="both-disagree-the-proxy",
        ),
        pytest.param(
            TWO_HOPS,
            PROXY,
            {"X-Forwarded-For": "203.0.113.66, 198.51.100.10, 10.1.2.3"},
            "198.51.100.10",
            id="two-trusted-hops-the-first-untrusted-from-the-right",
        ),
        pytest.param(
            TWO_HOPS,
            PROXY,
            {"Forwarded": "for=198.51.100.10, for=10.1.2.3"},
            "198.51.100.10",
            id="two-trusted-hops-forwarded",
        ),
        pytest.param(
            TWO_HOPS,
            PROXY,
            {"X-Forwarded-For": "10.9.9.9, 10.1.2.3"},
            "10.9.9.9",
            id="only-trusted-addresses-the-farthest",
        ),
        pytest.param(
            TWO_HOPS,
            PROXY,
            {"X-Forwarded-For": "198.51.100.10, bogus, 10.1.2.3"},
            PROXY,
            id="two-trusted-hops-one-unreadable",
        ),
    ],
)
def test_client_address(
    settings: t.Any, peer: str, headers: dict[str, str], expected: str
) -> None:
    app = create_console_app(settings=settings, level="none")
    assert address_of(app, peer, headers) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(None, "192.0.2.1", id="untrusted-peer"),
        pytest.param(
            {"environment": {"trusted_proxies": ["192.0.2.1"]}},
            "198.51.100.7",
            id="trusted-peer",
        ),
    ],
)
def test_proxy_fix_running_first_changes_nothing(
    settings: t.Any, expected: str
) -> None:
    """werkzeug's ProxyFix, wrapped around the app, rewrote REMOTE_ADDR from
    X-Forwarded-For before the extension ran: the server's peer counts."""
    app = create_console_app(settings=settings, level="none")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    headers = {"X-Forwarded-For": "198.51.100.7"}
    assert address_of(app, "192.0.2.1", headers) == expected


def test_without_the_extensions_snapshot_no_proxy_is_trusted() -> None:
    """Outside a request the middleware judged (no settings snapshot in the
    environ), even the configured proxy is only the peer."""
    environ = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert client_address(environ) == PROXY  # type: ignore[arg-type]
