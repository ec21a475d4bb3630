"""Property-based tests of what the extension is composed with: a client's
part of a ``Forwarded`` header, werkzeug's ProxyFix in either order,
class-based views, and apps mounted under a prefix.

Each property holds for every generated example:

1. whatever a client writes before a trusted proxy's ``Forwarded``
   element, the outcome is never more permissive than what the proxy's
   element says: a request the proxy calls ``http`` is never served as
   HTTPS to an endpoint that needs TLS, never gets HSTS, and a redirect goes
   to the proxy's host or the ``Host`` header's, never to one the client
   named;
2. ProxyFix, inside or outside the extension, never changes what the
   extension decides for a client that is not a trusted proxy;
3. a declaration on a method of a class-based view is refused at
   ``init_app``; one on the class (or in ``decorators``) is enforced for
   every method;
4. an app mounted under a prefix (werkzeug's ``DispatcherMiddleware``)
   redirects under the same prefix: the Location holds the whole target
   the client sent.
"""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.views import MethodView
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client, TestResponse

from flask_enforce_https import ConfigurationError, EnforceHTTPS

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROXY = "10.0.0.1"
HSTS = "Strict-Transport-Security"
#: What a header value can hold: servers end a header line at CR or LF.
LATIN1 = st.characters(max_codepoint=0xFF, exclude_characters="\r\n\x00")


def shop(**config: t.Any) -> tuple[Flask, EnforceHTTPS]:
    """An app with a TLS screen, a TLS REST endpoint and an open screen,
    trusting the proxy at 10.0.0.1, HSTS on; not yet registered."""
    https = EnforceHTTPS()
    app = Flask("composed")
    app.config.update(
        ENFORCE_HTTPS_SETTINGS={
            "environment": {"trusted_proxies": [PROXY], "hsts": True}
        },
        **config,
    )
    app.add_url_rule("/secure", "secure", https.screen("tls")(lambda: "secure"))
    app.add_url_rule(
        "/api", "api", https.rest()(lambda: {"ok": True}), methods=["GET", "POST"]
    )
    app.add_url_rule("/open", "open", https.screen("none")(lambda: "open"))
    return app, https


def send(
    wsgi: t.Any, path: str, remote: str, headers: dict[str, str], scheme: str = "http"
) -> TestResponse:
    # In the environ as a server puts them, not through werkzeug's Headers,
    # which some 3.1.x releases refuse newlines in.
    environ = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return Client(wsgi).get(
        path,
        base_url=f"{scheme}://shop.example.com",
        environ_base={"REMOTE_ADDR": remote, **environ},
    )


# --------------------------------------------------------------------------
# 1. A client's part of Forwarded
# --------------------------------------------------------------------------

#: Pieces a client may write: quotes, escapes, separators, parameters.
CLIENT_PIECES = st.lists(
    st.one_of(
        st.sampled_from(
            ['"', "\\", ",", ";", "=", " ", "proto=https", "host=evil.com", "x="]
        ),
        st.sampled_from(['proto="https', 'host="evil.com', 'for="a\\"']),
        st.text(LATIN1, max_size=4),
    ),
    max_size=6,
).map("".join)


@pytest.fixture(scope="module")
def composed() -> Flask:
    app, https = shop()
    https.init_app(app)
    return app


@PROPERTY
@given(client_part=CLIENT_PIECES, path=st.sampled_from(["/secure", "/api"]))
def test_a_client_part_never_loosens_the_proxy_element(
    composed: Flask, client_part: str, path: str
) -> None:
    forwarded = f"{client_part}, for=192.0.2.7;proto=http;host=shop.example.org"
    response = send(composed, path, PROXY, {"Forwarded": forwarded})
    assert response.status_code in (301, 400, 403), response.status_code
    assert HSTS not in response.headers
    if response.status_code == 301:
        assert response.headers["Location"] in (
            "https://shop.example.org/secure",
            "https://shop.example.com/secure",
        )


# --------------------------------------------------------------------------
# 2. ProxyFix in either order
# --------------------------------------------------------------------------

FORWARDED_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Forwarded-For": st.sampled_from([PROXY, "127.0.0.1", "198.51.100.1"]),
        "X-Forwarded-Proto": st.sampled_from(["https", "http", "HTTPS"]),
        "X-Forwarded-Host": st.sampled_from(["evil.com", "shop.example.com"]),
        "X-Forwarded-Port": st.sampled_from(["443", "8443"]),
        "Forwarded": st.sampled_from(["proto=https", "proto=https;host=evil.com"]),
    },
)


def with_proxyfix(order: str) -> Flask:
    app, https = shop()
    fix = {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1}
    if order == "inside":
        app.wsgi_app = ProxyFix(app.wsgi_app, **fix)  # type: ignore[method-assign]
        https.init_app(app)
    else:
        https.init_app(app)
        app.wsgi_app = ProxyFix(app.wsgi_app, **fix)  # type: ignore[method-assign]
    return app


@pytest.fixture(scope="module")
def proxyfixed() -> dict[str, Flask]:
    return {order: with_proxyfix(order) for order in ("inside", "outside")}


@PROPERTY
@given(
    headers=FORWARDED_HEADERS,
    order=st.sampled_from(["inside", "outside"]),
    path=st.sampled_from(["/secure", "/api", "/open"]),
    scheme=st.sampled_from(["http", "https"]),
)
def test_proxyfix_never_changes_what_an_untrusted_client_gets(
    composed: Flask,
    proxyfixed: dict[str, Flask],
    headers: dict[str, str],
    order: str,
    path: str,
    scheme: str,
) -> None:
    remote = "203.0.113.9"
    fixed = send(proxyfixed[order], path, remote, headers, scheme)
    plain = send(composed, path, remote, {}, scheme)
    assert fixed.status_code == plain.status_code
    assert fixed.headers.get("Location") == plain.headers.get("Location")
    assert fixed.headers.get(HSTS) == plain.headers.get(HSTS)


# --------------------------------------------------------------------------
# 3. Class-based views
# --------------------------------------------------------------------------

METHODS = ("get", "post", "put", "delete")


@settings(PROPERTY, max_examples=60)
@given(
    methods=st.lists(st.sampled_from(METHODS), min_size=1, unique=True),
    declared=st.sampled_from(METHODS),
    level=st.sampled_from(["none", "tls", "tls-client-cert"]),
)
def test_a_declaration_on_a_method_is_refused(
    methods: list[str], declared: str, level: str
) -> None:
    https = EnforceHTTPS()
    namespace: dict[str, t.Any] = {m: (lambda self: "ok") for m in methods}
    namespace[declared] = https.rest(level)(lambda self: "ok")
    view = type("Orders", (MethodView,), namespace)
    app = Flask("views")
    app.add_url_rule("/orders", view_func=view.as_view("orders"))
    with pytest.raises(ConfigurationError, match=rf"Orders\.{declared}"):
        https.init_app(app)


@settings(PROPERTY, max_examples=60)
@given(
    methods=st.lists(st.sampled_from(METHODS), min_size=1, unique=True),
    on_class=st.booleans(),
)
def test_a_declaration_on_the_class_covers_every_method(
    methods: list[str], on_class: bool
) -> None:
    https = EnforceHTTPS()
    namespace: dict[str, t.Any] = {m: (lambda self: "ok") for m in methods}
    if not on_class:
        namespace["decorators"] = [https.rest()]
    view = type("Orders", (MethodView,), namespace)
    if on_class:
        view = https.rest()(view)
    app = Flask("views")
    app.add_url_rule("/orders", view_func=view.as_view("orders"))
    https.init_app(app)
    client = app.test_client()
    for method in methods:
        response = client.open("/orders", method=method.upper())
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


# --------------------------------------------------------------------------
# 4. Mounted apps
# --------------------------------------------------------------------------

PREFIXES = st.from_regex(r"(/[a-z0-9]{1,6}){1,2}", fullmatch=True)
QUERIES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=8)


@PROPERTY
@given(prefix=PREFIXES, query=QUERIES)
def test_a_mounted_app_redirects_under_its_prefix(prefix: str, query: str) -> None:
    app, https = shop()
    https.init_app(app)
    mounted = DispatcherMiddleware(Flask("root"), {prefix: app})
    target = f"{prefix}/secure" + (f"?{query}" if query else "")
    response = Client(mounted).get(
        target,
        base_url="http://shop.example.com",
        environ_overrides={"REQUEST_URI": target, "RAW_URI": target},
    )
    assert response.status_code == 301
    location = response.headers["Location"]
    assert location.startswith(f"https://shop.example.com{prefix}/secure")
