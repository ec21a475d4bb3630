"""The console through Flask's test client: mounting, the authorization
matrix, plain HTTP, forged requests, review and apply, conflicts, the
gates of dangerous changes, and the headers of every page."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from conftest import create_app
from flask import Flask
from flask.testing import FlaskClient
from pki import CA

from flask_enforce_https.console.extension import Console, ConsoleError
from flask_enforce_https.errors import ConfigurationError
from flask_enforce_https.writers import writer_for

from .helpers import (
    HTTPS,
    PREFIX,
    SAME_ORIGIN,
    apply,
    as_role,
    console_app,
    header_role,
    hidden_fields,
    review,
)

PAGES = [
    "/",
    "/environment",
    "/applications",
    "/applications/shop",
    "/endpoints",
    "/explain",
    "/certificates",
    "/history",
]


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return console_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def audit(tmp_path: Path) -> list[dict[str, t.Any]]:
    log = tmp_path / "settings.toml.audit.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


# -- mounting ------------------------------------------------------------------


def test_no_authorize_no_console(tmp_path: Path) -> None:
    app = create_app(None, SECRET_KEY="x" * 32)
    with pytest.raises(ConsoleError, match="authorize"):
        Console(app)


def test_the_extension_comes_first() -> None:
    app = Flask("bare")
    app.config["SECRET_KEY"] = "x" * 32
    with pytest.raises(ConsoleError, match="EnforceHTTPS"):
        Console(app, authorize=header_role)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        pytest.param({"SECRET_KEY": None}, "SECRET_KEY", id="no-secret-key"),
        pytest.param(
            {"SECRET_KEY": "x" * 32, "ENFORCE_HTTPS_CONSOLE_URL_PREFIX": "/"},
            "ENFORCE_HTTPS_CONSOLE_URL_PREFIX",
            id="prefix-slash",
        ),
        pytest.param(
            {"SECRET_KEY": "x" * 32, "ENFORCE_HTTPS_CONSOLE_URL_PREFIX": "admin"},
            "ENFORCE_HTTPS_CONSOLE_URL_PREFIX",
            id="prefix-relative",
        ),
    ],
)
def test_bad_config_names_the_key(config: dict[str, t.Any], key: str) -> None:
    app = create_app(None, **config)
    with pytest.raises(ConfigurationError, match=key):
        Console(app, authorize=header_role)


# -- who gets in ---------------------------------------------------------------


@pytest.mark.parametrize("path", [pytest.param(p, id=p) for p in PAGES])
def test_plain_http_redirects_like_any_tls_screen(
    client: FlaskClient, path: str
) -> None:
    response = client.get(PREFIX + path, headers=as_role("editor"))
    assert response.status_code == 301
    assert response.location == f"{HTTPS}{PREFIX}{path}"


@pytest.mark.parametrize(
    ("role", "method", "status"),
    [
        pytest.param(None, "GET", 403, id="nobody-get"),
        pytest.param(None, "POST", 403, id="nobody-post"),
        pytest.param("reader", "GET", 200, id="reader-get"),
        pytest.param("reader", "POST", 403, id="reader-post"),
        pytest.param("editor", "GET", 200, id="editor-get"),
        pytest.param("editor", "POST", 200, id="editor-post"),
    ],
)
def test_authorization_matrix(
    client: FlaskClient, role: str | None, method: str, status: int
) -> None:
    headers = as_role(role) if role else {}
    if method == "GET":
        response = client.get(PREFIX + "/environment", base_url=HTTPS, headers=headers)
    else:
        page = client.get(
            PREFIX + "/environment", base_url=HTTPS, headers=as_role("editor")
        )
        response = client.post(
            PREFIX + "/environment",
            base_url=HTTPS,
            data={**hidden_fields(page), "action": "review"},
            headers={**headers, **SAME_ORIGIN},
        )
    assert response.status_code == status


@pytest.mark.parametrize("path", [pytest.param(p, id=p) for p in PAGES])
def test_every_page_renders_for_a_reader(client: FlaskClient, path: str) -> None:
    response = client.get(PREFIX + path, base_url=HTTPS, headers=as_role("reader"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "read only" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [pytest.param(p, id=p) for p in [*PAGES, "/nope"]])
def test_every_response_forbids_framing_script_and_caching(
    client: FlaskClient, path: str
) -> None:
    response = client.get(PREFIX + path, base_url=HTTPS, headers=as_role("reader"))
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back to 'none'
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True)
    assert " style=" not in response.get_data(as_text=True)


# -- forged requests -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "base_url", "environ", "status"),
    [
        pytest.param(SAME_ORIGIN, HTTPS, {}, 200, id="same-origin"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, HTTPS, {}, 403, id="cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site"}, HTTPS, {}, 403, id="same-site"),
        pytest.param({"Origin": HTTPS}, HTTPS, {}, 200, id="origin"),
        pytest.param(
            {"Origin": "https://evil.example"}, HTTPS, {}, 403, id="other-origin"
        ),
        pytest.param({}, HTTPS, {}, 403, id="no-origin-at-all"),
        pytest.param(
            {"Origin": HTTPS, "X-Forwarded-Proto": "https"},
            "http://localhost",
            {"REMOTE_ADDR": "10.0.0.1"},
            200,
            id="behind-trusted-proxy",
        ),
        pytest.param(
            {"Origin": "http://localhost", "X-Forwarded-Proto": "https"},
            "http://localhost",
            {"REMOTE_ADDR": "10.0.0.1"},
            403,
            id="behind-proxy-http-origin",
        ),
    ],
)
def test_forged_posts_are_refused(
    tmp_path: Path,
    headers: dict[str, str],
    base_url: str,
    environ: dict[str, str],
    status: int,
) -> None:
    app = console_app(tmp_path, '[environment]\ntrusted_proxies = ["10.0.0.1"]\n')
    client = app.test_client()
    page = client.get(
        PREFIX + "/environment",
        base_url=base_url,
        headers=as_role("editor", **headers),
        environ_base=environ,
    )
    assert page.status_code == 200
    response = client.post(
        PREFIX + "/environment",
        base_url=base_url,
        data={**hidden_fields(page), "action": "review"},
        headers=as_role("editor", **headers),
        environ_base=environ,
    )
    assert response.status_code == status, response.get_data(as_text=True)


def test_a_token_made_for_another_user_is_refused(client: FlaskClient) -> None:
    page = client.get(
        PREFIX + "/environment", base_url=HTTPS, headers=as_role("editor")
    )
    form = {**hidden_fields(page), "action": "review"}
    form["console_token"] = "forged"
    response = client.post(
        PREFIX + "/environment",
        base_url=HTTPS,
        data=form,
        headers=as_role("editor", **SAME_ORIGIN),
    )
    assert response.status_code == 403


# -- review and apply --------------------------------------------------------------


def test_review_then_apply_writes_an_audited_change(
    client: FlaskClient, tmp_path: Path
) -> None:
    reviewed = review(client, "/applications/shop", {"force_https_screens": "on"})
    text = reviewed.get_data(as_text=True)
    assert reviewed.status_code == 200, text
    assert "shop.force_https_screens" in text
    assert "screens of shop will redirect plain HTTP to HTTPS" in text
    assert audit(tmp_path) == []  # a review writes nothing
    applied = apply(client, "/applications/shop", reviewed, reason="storefront")
    assert applied.status_code == 303
    assert client.get("/page").status_code == 301
    (line,) = audit(tmp_path)
    assert (line["user"], line["origin"], line["reason"]) == (
        "editor-user",
        "console",
        "storefront",
    )
    assert (line["scope"], line["key"], line["new"]) == (
        "shop",
        "force_https_screens",
        True,
    )


def test_apply_needs_a_reason(client: FlaskClient, tmp_path: Path) -> None:
    reviewed = review(client, "/environment", {"force_https_integrations": "on"})
    assert "will answer 403 to http:// callers" in reviewed.get_data(as_text=True)
    response = apply(client, "/environment", reviewed, reason=" ")
    assert response.status_code == 400
    assert audit(tmp_path) == []


def test_an_invalid_value_is_named_and_nothing_is_written(
    client: FlaskClient, tmp_path: Path
) -> None:
    response = review(client, "/environment", {"exempt_paths": "healthz"})
    assert response.status_code == 400
    assert "Exempt paths" in response.get_data(as_text=True)
    assert audit(tmp_path) == []


def test_a_change_made_meanwhile_is_shown_not_lost(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    reviewed = review(client, "/environment", {"force_https_screens": "on"})
    with app.app_context():
        writer_for(app.extensions["enforce_https"]).change(
            "environment",
            {"secure_cookies": True},
            expected=None,
            author="bob",
            reason="cookies first",
        )
    response = apply(client, "/environment", reviewed, reason="mine")
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "bob" in text
    assert "cookies first" in text
    assert "force_https_screens" in text  # their change and mine, both shown
    assert [line["user"] for line in audit(tmp_path)] == ["bob"]


# -- gates -----------------------------------------------------------------------


def test_hsts_on_needs_a_checked_certificate(
    client: FlaskClient, tmp_path: Path
) -> None:
    reviewed = review(client, "/environment", {"hsts": "on", "hsts_max_age": "300"})
    text = reviewed.get_data(as_text=True)
    assert "ENFORCE_HTTPS_CERTIFICATE" in text
    response = apply(client, "/environment", reviewed, reason="r", confirm_hsts="yes")
    assert response.status_code == 400
    assert audit(tmp_path) == []


@pytest.mark.parametrize(
    ("text", "fields", "gate"),
    [
        pytest.param(
            "[environment]\nhsts = true\nhsts_max_age = 600\n",
            {"hsts_max_age": "600"},
            "confirm_hsts_off",
            id="hsts-off",
        ),
        pytest.param(
            "[environment]\nhsts = true\nhsts_max_age = 600\n",
            {"hsts": "on", "hsts_max_age": "600", "hsts_include_subdomains": "on"},
            "confirm_include_subdomains",
            id="include-subdomains",
        ),
        pytest.param(
            "[environment]\nhsts = true\nhsts_max_age = 600\n",
            {"hsts": "on", "hsts_max_age": "600", "hsts_preload": "on"},
            "confirm_preload",
            id="preload",
        ),
    ],
)
def test_a_dangerous_change_needs_its_confirmation(
    tmp_path: Path, text: str, fields: dict[str, str], gate: str
) -> None:
    app = console_app(tmp_path, text)
    client = app.test_client()
    reviewed = review(client, "/environment", fields)
    assert f'name="{gate}"' in reviewed.get_data(as_text=True)
    refused = apply(client, "/environment", reviewed, reason="r")
    assert refused.status_code == 400
    assert audit(tmp_path) == []
    confirmed = apply(client, "/environment", reviewed, reason="r", **{gate: "yes"})
    assert confirmed.status_code == 303
    assert len(audit(tmp_path)) >= 1


def test_max_age_0_is_offered_and_needs_no_confirmation(tmp_path: Path) -> None:
    app = console_app(tmp_path, "[environment]\nhsts = true\nhsts_max_age = 600\n")
    client = app.test_client()
    reviewed = review(client, "/environment", {"hsts": "on", "hsts_max_age": "0"})
    assert "confirm_" not in reviewed.get_data(as_text=True)
    assert apply(client, "/environment", reviewed, reason="clear").status_code == 303
    # localhost is among the default hsts_excluded_hosts
    response = client.get("/", base_url="https://shop.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=0"


def test_a_change_that_locks_the_user_out_is_refused(tmp_path: Path) -> None:
    app = console_app(tmp_path, '[environment]\ntrusted_proxies = ["10.0.0.1"]\n')
    client = app.test_client()
    through_proxy = {"X-Forwarded-Proto": "https", "Origin": HTTPS}
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    page = client.get(
        PREFIX + "/environment",
        headers=as_role("editor", **through_proxy),
        environ_base=environ,
    )
    assert page.status_code == 200
    fields = {**hidden_fields(page), "trusted_proxies": "10.9.9.9", "action": "review"}
    reviewed = client.post(
        PREFIX + "/environment",
        data=fields,
        headers=as_role("editor", **through_proxy),
        environ_base=environ,
    )
    assert "your own requests come through 10.0.0.1" in reviewed.get_data(as_text=True)
    fields.update(action="apply", reason="tidy", confirm_own_requests="yes")
    fields["console_token"] = hidden_fields(reviewed)["console_token"]
    response = client.post(
        PREFIX + "/environment",
        data=fields,
        headers=as_role("editor", **through_proxy),
        environ_base=environ,
    )
    assert response.status_code == 400
    assert audit(tmp_path) == []


# -- history -----------------------------------------------------------------------


def test_history_shows_the_change_and_reverts_it(
    client: FlaskClient, tmp_path: Path
) -> None:
    reviewed = review(client, "/applications/shop", {"force_https_screens": "on"})
    apply(client, "/applications/shop", reviewed, reason="storefront")
    reviewed = review(client, "/environment", {"secure_cookies": "on"})
    apply(client, "/environment", reviewed, reason="cookies")
    page = client.get(PREFIX + "/history", base_url=HTTPS, headers=as_role("editor"))
    text = page.get_data(as_text=True)
    assert "storefront" in text
    assert "Revert to revision 1" in text
    form = {**hidden_fields(page, 0), "reason": "undo cookies"}
    response = client.post(
        PREFIX + "/history/revert",
        base_url=HTTPS,
        data=form,
        headers=as_role("editor", **SAME_ORIGIN),
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    last = audit(tmp_path)[-1]
    assert (last["key"], last["new"], last["origin"]) == (
        "secure_cookies",
        None,
        "revert",
    )
    assert client.get("/page").status_code == 301  # revision 1 stays


def test_hsts_on_over_https_with_a_good_certificate(tmp_path: Path) -> None:
    ca = CA("Console Test Root CA")
    cert, key = ca.issue().write(tmp_path, "server")
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.pem())
    app = console_app(
        tmp_path,
        ENFORCE_HTTPS_CERTIFICATE=str(cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(key),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
    )
    client = app.test_client()
    reviewed = review(client, "/environment", {"hsts": "on", "hsts_max_age": "300"})
    text = reviewed.get_data(as_text=True)
    assert "refuse plain HTTP to this host for 5 minutes" in text
    assert "Cannot be applied now" not in text
    unconfirmed = apply(client, "/environment", reviewed, reason="trial")
    assert unconfirmed.status_code == 400
    confirmed = apply(
        client, "/environment", reviewed, reason="trial", confirm_hsts="yes"
    )
    assert confirmed.status_code == 303
    assert [line["key"] for line in audit(tmp_path)] == ["hsts", "hsts_max_age"]
