"""werkzeug's ProxyFix and the extension compose safely in either order.

The extension judges each request by the peer address, scheme and host the
server gave, before any middleware rewrote them: with ProxyFix inside it
(applied before ``init_app``), ProxyFix runs after the judgement; with
ProxyFix outside it (applied after), the extension reads the server's values
from ``werkzeug.proxy_fix.orig``. Either way a forged ``X-Forwarded-For``
cannot make a direct client a trusted proxy.
"""

from __future__ import annotations

import io
import json
import typing as t
from urllib.parse import quote

import pki
import pytest
from flask import Flask, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import TestResponse, run_wsgi_app

from flask_enforce_https import EnforceHTTPS

PROXY = "127.0.0.1"
ATTACKER = "203.0.113.9"
ORDERS = ["proxyfix-inside", "proxyfix-outside"]


def proxied_app(order: str) -> Flask:
    """An app trusting the proxy at 127.0.0.1, with werkzeug's ProxyFix
    (trusting one hop of every header) inside or outside the extension."""
    https = EnforceHTTPS()
    app = Flask("proxied")
    app.config.update(
        ENFORCE_HTTPS_SETTINGS={
            "environment": {"trusted_proxies": [PROXY], "hsts": True}
        },
        ENFORCE_HTTPS_CLIENT_CA=str(pki.test_ca_path()),
        ENFORCE_HTTPS_CLIENT_CERT_HEADER="X-SSL-Client-Cert",
    )

    @app.get("/partner")
    @https.rest("tls-client-cert")
    def partner() -> dict[str, t.Any]:
        return {"partner": True}

    @app.get("/secure")
    @https.screen("tls")
    def secure() -> dict[str, t.Any]:
        return {"remote": request.remote_addr, "scheme": request.scheme}

    fix = {"x_for": 1, "x_proto": 1, "x_host": 1}
    if order == "proxyfix-inside":
        app.wsgi_app = ProxyFix(app.wsgi_app, **fix)  # type: ignore[method-assign]
        https.init_app(app)
    else:
        https.init_app(app)
        app.wsgi_app = ProxyFix(app.wsgi_app, **fix)  # type: ignore[method-assign]
    return app


def partner_certificate() -> str:
    """A public certificate of a partner, which anyone may have a copy of."""
    issued = pki.test_ca().issue("partner", usage="client")
    return quote(issued.cert_pem().decode("ascii"))


def get(
    app: Flask, path: str, remote: str, headers: dict[str, str], scheme: str = "http"
) -> TestResponse:
    return app.test_client().get(
        path,
        base_url=f"{scheme}://shop.example.com",
        headers=headers,
        environ_base={"REMOTE_ADDR": remote},
    )


@pytest.mark.parametrize("order", ORDERS)
def test_forged_forwarded_for_does_not_make_a_certificate_header_count(
    order: str,
) -> None:
    # A direct client over TLS with a copy of a partner's public certificate
    # and X-Forwarded-For naming the proxy.
    headers = {"X-Forwarded-For": PROXY, "X-SSL-Client-Cert": partner_certificate()}
    response = get(proxied_app(order), "/partner", ATTACKER, headers, "https")
    assert response.status_code == 403
    assert "client certificate" in response.get_json()["detail"]


@pytest.mark.parametrize("order", ORDERS)
def test_forged_forwarded_headers_do_not_make_http_count_as_https(order: str) -> None:
    headers = {"X-Forwarded-For": PROXY, "X-Forwarded-Proto": "https"}
    response = get(proxied_app(order), "/secure", ATTACKER, headers)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://shop.example.com/secure"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("order", ORDERS)
def test_the_real_proxy_is_believed(order: str) -> None:
    headers = {
        "X-Forwarded-For": "198.51.100.7",
        "X-Forwarded-Proto": "https",
        "X-SSL-Client-Cert": partner_certificate(),
    }
    app = proxied_app(order)
    assert get(app, "/partner", PROXY, headers).get_json() == {"partner": True}
    response = get(app, "/secure", PROXY, headers)
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    # ProxyFix still gives the app the client's address.
    assert response.get_json() == {"remote": "198.51.100.7", "scheme": "https"}


def test_proxyfix_outside_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    app = proxied_app("proxyfix-outside")
    for _ in range(3):
        get(app, "/secure", PROXY, {"X-Forwarded-Proto": "https"})
    logged = [r for r in caplog.records if "ProxyFix" in r.getMessage()]
    assert len(logged) <= 1  # once per process: an earlier test may have


def test_proxyfix_outside_cannot_give_a_hostless_request_a_forged_host() -> None:
    # HTTP/1.0 without Host, from a client that is not a trusted proxy: what
    # ProxyFix took from its X-Forwarded-Host must not reach the app.
    app = proxied_app("proxyfix-outside")

    @app.get("/link")
    def link() -> dict[str, t.Any]:
        return {"host": request.host, "url": url_for("link", _external=True)}

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/link",
        "SERVER_NAME": "shop.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "REMOTE_ADDR": ATTACKER,
        "HTTP_X_FORWARDED_FOR": PROXY,
        "HTTP_X_FORWARDED_HOST": "evil.example",
        # Over TLS, so that HSTS (on in this app) serves the screen.
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("200")
    seen = json.loads(b"".join(body))
    assert "evil" not in json.dumps(seen)
    assert seen["host"] == "shop.example.com"
