"""Cross-site request forgery: check_origin, the signed tokens, and living
with Flask-WTF's CSRFProtect."""

from __future__ import annotations

import time
import typing as t

import pytest
from flask import Flask, request
from itsdangerous import URLSafeTimedSerializer

from flask_enforce_https import ConfigurationError
from flask_enforce_https.console.forgery import (
    MAX_TOKEN,
    check_origin,
    check_token,
    exempt_from_flask_wtf,
    make_token,
)

from .conftest import BEHIND_PROXY, CONSOLE, PROXY, create_console_app

# -- check_origin ----------------------------------------------------------------


def post(app: Flask, headers: dict[str, str], **kwargs: t.Any) -> tuple[int, str]:
    kwargs.setdefault("base_url", CONSOLE)
    response = app.test_client().post("/_https/change", headers=headers, **kwargs)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        pytest.param({"Sec-Fetch-Site": "same-origin"}, None, id="same-origin"),
        pytest.param(
            {"Sec-Fetch-Site": "cross-site"},
            "Sec-Fetch-Site is 'cross-site', not 'same-origin'",
            id="cross-site",
        ),
        pytest.param(
            {"Sec-Fetch-Site": "same-site"},
            "Sec-Fetch-Site is 'same-site', not 'same-origin'",
            id="same-site",
        ),
        pytest.param(
            {"Sec-Fetch-Site": "none"},
            "Sec-Fetch-Site is 'none', not 'same-origin'",
            id="none-is-a-navigation-never-a-post",
        ),
        pytest.param(
            {"Sec-Fetch-Site": "Same-Origin"},
            "Sec-Fetch-Site is 'Same-Origin', not 'same-origin'",
            id="sec-fetch-site-other-spelling",
        ),
        pytest.param(
            {"Sec-Fetch-Site": "cross-site", "Origin": CONSOLE},
            "Sec-Fetch-Site is 'cross-site', not 'same-origin'",
            id="sec-fetch-site-decides-over-origin",
        ),
        pytest.param({"Origin": CONSOLE}, None, id="absent-origin-matches"),
        pytest.param(
            {"Origin": "HTTPS://Console.Example:443"},
            None,
            id="origin-matches-default-port-and-case",
        ),
        pytest.param(
            {"Origin": "https://evil.example"},
            "Origin 'https://evil.example' is not this console's origin",
            id="origin-of-another-host",
        ),
        pytest.param(
            {"Origin": "https://console.example.evil.example"},
            "is not this console's origin",
            id="origin-our-name-as-a-prefix",
        ),
        pytest.param(
            {"Origin": "http://console.example"},
            "Origin 'http://console.example' is not this console's origin",
            id="origin-http-for-an-https-console",
        ),
        pytest.param(
            {"Origin": "https://console.example:8443"},
            "is not this console's origin",
            id="origin-another-port",
        ),
        pytest.param(
            {"Origin": "null"},
            "Origin 'null' is not a URL of an origin",
            id="origin-null",
        ),
        pytest.param(
            {"Origin": "https://console.example/_https/"},
            "is not a URL of an origin",
            id="origin-with-a-path",
        ),
        pytest.param(
            {"Origin": "https://user@console.example"},
            "is not a URL of an origin",
            id="origin-with-userinfo",
        ),
        pytest.param(
            {"Origin": "https://console.example, https://evil.example"},
            "is not a URL of an origin",
            id="two-origins",
        ),
        pytest.param(
            {"Origin": "https://[::1"},
            "is not a URL of an origin",
            id="origin-unparseable",
        ),
        pytest.param(
            {"Origin": "ftp://console.example"},
            "is not a URL of an origin",
            id="origin-other-scheme",
        ),
        pytest.param(
            {"Referer": f"{CONSOLE}/_https/settings?tab=hsts"},
            None,
            id="referer-fallback-matches",
        ),
        pytest.param(
            {"Referer": "https://evil.example/_https/settings"},
            "Referer 'https://evil.example/_https/settings' is not this"
            " console's origin",
            id="referer-of-another-host",
        ),
        pytest.param(
            {"Referer": "/_https/settings"},
            "is not a URL of an origin",
            id="referer-relative",
        ),
        pytest.param(
            {"Origin": "https://evil.example", "Referer": f"{CONSOLE}/"},
            "Origin 'https://evil.example' is not this console's origin",
            id="origin-decides-over-referer",
        ),
        pytest.param(
            {},
            "the request has no Sec-Fetch-Site, Origin or Referer header",
            id="nothing",
        ),
    ],
)
def test_check_origin(headers: dict[str, str], refused: str | None) -> None:
    status, body = post(create_console_app(), headers)
    if refused is None:
        assert (status, body) == (200, "changed")
    else:
        assert status == 403
        assert refused in body


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_not_checked(method: str) -> None:
    app = create_console_app()
    with app.test_request_context(
        "/_https/change", method=method, base_url=CONSOLE, headers={"Origin": "null"}
    ):
        assert check_origin(request) is None


@pytest.mark.parametrize(
    ("peer", "origin", "status"),
    [
        pytest.param(PROXY, CONSOLE, 200, id="trusted-proxy-says-https"),
        pytest.param(
            PROXY, "http://console.example", 403, id="trusted-proxy-http-origin"
        ),
        pytest.param(
            PROXY,
            "https://upstream.internal:8000",
            403,
            id="the-upstreams-host-is-not-the-origin",
        ),
    ],
)
def test_behind_nginx_the_origin_is_the_one_the_client_used(
    peer: str, origin: str, status: int
) -> None:
    """nginx forwards to http://upstream.internal:8000 with X-Forwarded-Proto
    and X-Forwarded-Host: the origin is what the client used."""
    app = create_console_app(settings=BEHIND_PROXY)
    headers = {
        "Origin": origin,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "console.example",
    }
    result = post(
        app,
        headers,
        base_url="http://upstream.internal:8000",
        environ_base={"REMOTE_ADDR": peer},
    )
    assert result[0] == status, result


def test_an_untrusted_peer_cannot_claim_the_origin_it_sends() -> None:
    """Over plain HTTP from a peer nobody trusts, X-Forwarded-* count for
    nothing: an https Origin is not this page's."""
    app = create_console_app(settings=BEHIND_PROXY, level="none")
    headers = {
        "Origin": "https://console.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "console.example",
    }
    status, body = post(
        app,
        headers,
        base_url="http://console.example",
        environ_base={"REMOTE_ADDR": "192.0.2.66"},
    )
    assert status == 403
    assert "is not this console's origin" in body
    assert post(
        app,
        {"Origin": "http://console.example"},
        base_url="http://console.example",
        environ_base={"REMOTE_ADDR": "192.0.2.66"},
    ) == (200, "changed")


def test_without_the_extensions_view_no_origin_matches() -> None:
    """A request the extension's middleware did not judge (here a bare
    request context) has no known origin: Origin and Referer cannot match
    it, while Sec-Fetch-Site, the browser's own judgement, still can."""
    app = create_console_app()
    for headers, expected in (
        ({"Origin": CONSOLE}, "the request's own origin is unknown"),
        ({"Referer": f"{CONSOLE}/"}, "the request's own origin is unknown"),
        ({"Sec-Fetch-Site": "same-origin"}, None),
    ):
        with app.test_request_context(
            "/_https/change", method="POST", base_url=CONSOLE, headers=headers
        ):
            reason = check_origin(request)
        if expected is None:
            assert reason is None
        else:
            assert reason is not None
            assert expected in reason


# -- tokens --------------------------------------------------------------------

KEY = "a long random secret key"


@pytest.mark.parametrize(
    ("secret_key", "user", "mangle", "valid"),
    [
        pytest.param(KEY, "alice", None, True, id="valid"),
        pytest.param(KEY.encode(), "alice", None, True, id="bytes-key"),
        pytest.param(KEY, "élodie", None, True, id="utf-8-user"),
        pytest.param(KEY, "bob", None, False, id="another-user"),
        pytest.param(KEY, "alice ", None, False, id="a-user-with-a-space-more"),
        pytest.param("another key", "alice", None, False, id="another-key"),
        pytest.param(KEY, "alice", "flip-last", False, id="tampered-signature"),
        pytest.param(KEY, "alice", "flip-first", False, id="tampered-payload"),
        pytest.param(KEY, "alice", "empty", False, id="empty"),
        pytest.param(KEY, "alice", "none", False, id="none"),
        pytest.param(KEY, "alice", "too-long", False, id="too-long"),
        pytest.param(KEY, "alice", "other-salt", False, id="signed-for-something-else"),
    ],
)
def test_check_token(
    secret_key: str | bytes, user: str, mangle: str | None, valid: bool
) -> None:
    token: str | None = make_token(KEY, "alice" if user != "élodie" else user)
    assert token is not None
    if mangle == "flip-last":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif mangle == "flip-first":
        token = ("A" if token[0] != "A" else "B") + token[1:]
    elif mangle == "empty":
        token = ""
    elif mangle == "none":
        token = None
    elif mangle == "too-long":
        token = token + "A" * MAX_TOKEN
    elif mangle == "other-salt":
        token = URLSafeTimedSerializer(KEY, salt="wtf-csrf-token").dumps(user)
    assert check_token(secret_key, user, token, max_age=3600) is valid


def test_an_expired_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """itsdangerous reads time.time(): the clock is moved, as no public
    surface sets it."""
    token = make_token(KEY, "alice")
    assert check_token(KEY, "alice", token, max_age=60)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert not check_token(KEY, "alice", token, max_age=60)
    assert check_token(KEY, "alice", token, max_age=120)


@pytest.mark.parametrize(
    "empty", [pytest.param("", id="str"), pytest.param(b"", id="bytes")]
)
def test_an_empty_secret_key_is_a_configuration_error(empty: str | bytes) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY: is empty"):
        make_token(empty, "alice")
    with pytest.raises(ConfigurationError, match="SECRET_KEY: is empty"):
        check_token(empty, "alice", "token", max_age=60)


# -- Flask-WTF -----------------------------------------------------------------


@pytest.fixture
def csrf_protect() -> t.Any:
    try:
        from flask_wtf.csrf import CSRFProtect
    except ImportError:
        from test_stack import unavailable

        unavailable(
            "Flask-WTF is not installed (pip install -e '.[test]'): living"
            " with its CSRFProtect is not tested"
        )
    return CSRFProtect()


def test_flask_wtf_exempts_the_console_blueprint_only(csrf_protect: t.Any) -> None:
    app = create_console_app()

    @app.post("/elsewhere")
    def elsewhere() -> str:
        return "elsewhere"

    csrf_protect.init_app(app)
    client = app.test_client()
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    before = client.post("/_https/change", base_url=CONSOLE, headers=same_origin)
    assert before.status_code == 400  # Flask-WTF: no token of its own
    assert exempt_from_flask_wtf(app, app.blueprints["probe"]) is True
    after = client.post("/_https/change", base_url=CONSOLE, headers=same_origin)
    assert (after.status_code, after.get_data(as_text=True)) == (200, "changed")
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    refused = client.post("/_https/change", base_url=CONSOLE, headers=cross_site)
    assert refused.status_code == 403  # our own check still runs
    other = client.post("/elsewhere", base_url=CONSOLE, headers=same_origin)
    assert other.status_code == 400  # the app's other views stay protected


def test_without_csrf_protect_nothing_is_exempted() -> None:
    app = create_console_app()
    assert exempt_from_flask_wtf(app, app.blueprints["probe"]) is False
    app.extensions["csrf"] = object()  # another extension's "csrf"
    assert exempt_from_flask_wtf(app, app.blueprints["probe"]) is False
