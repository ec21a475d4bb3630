"""Registering the extension: app.extensions, config defaults, validation."""

from __future__ import annotations

import dataclasses
import typing as t
from pathlib import Path

import pytest
from flask import Blueprint, Flask, Response, abort

from flask_enforce_https import (
    ConfigurationError,
    EnforceHTTPS,
    EnforceHTTPSError,
    HttpSecurity,
    SettingsError,
)
from flask_enforce_https.state import AppState


def test_init_app_registers_state_and_config_defaults() -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_PORT"] = 8443
    ext = EnforceHTTPS()
    ext.init_app(app)
    state = app.extensions["enforce_https"]
    assert isinstance(state, AppState)
    assert state.config.application == "shop"
    assert state.config.default is HttpSecurity.NONE
    assert (state.config.redirect_code, state.config.redirect_code_other) == (301, 308)
    assert state.config.port == 8443, "setdefault keeps what the app set"
    assert app.config["ENFORCE_HTTPS_REDIRECT_CODE"] == 301
    assert app.config["ENFORCE_HTTPS_DEFAULT_SECURITY"] == "none"
    assert app.config["ENFORCE_HTTPS_HOST"] is None
    assert not hasattr(ext, "app")


def test_constructor_with_app_is_init_app() -> None:
    app = Flask("shop")
    EnforceHTTPS(app)
    assert isinstance(app.extensions["enforce_https"], AppState)
    assert app.extensions["enforce_https"].config.application == "shop"


def test_one_instance_serves_several_apps() -> None:
    ext = EnforceHTTPS()
    shop, blog = Flask("shop"), Flask("blog")
    blog.config["ENFORCE_HTTPS_SETTINGS"] = {
        "applications": {"blog": {"force_https_screens": True}}
    }
    shop.config["ENFORCE_HTTPS_SETTINGS"] = blog.config["ENFORCE_HTTPS_SETTINGS"]
    for app in (shop, blog):
        app.add_url_rule("/", "home", ext.screen()(lambda: "home"))
        ext.init_app(app)
    assert shop.extensions["enforce_https"] is not blog.extensions["enforce_https"]
    assert shop.test_client().get("/").status_code == 200
    assert blog.test_client().get("/").status_code == 301


def test_init_app_twice_is_an_error() -> None:
    app = Flask("shop")
    ext = EnforceHTTPS(app)
    with pytest.raises(EnforceHTTPSError, match="already registered"):
        ext.init_app(app)


def test_application_name_from_config() -> None:
    app = Flask("shop")
    app.config.update(
        ENFORCE_HTTPS_APPLICATION="storefront",
        ENFORCE_HTTPS_SETTINGS={
            "applications": {"storefront": {"force_https_screens": True}}
        },
    )
    app.add_url_rule("/", "home", lambda: "home")
    EnforceHTTPS(app)
    assert app.extensions["enforce_https"].config.application == "storefront"
    assert app.test_client().get("/").status_code == 301


def test_hook_runs_before_other_before_request_hooks() -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_SETTINGS"] = {
        "environment": {"force_https_screens": True}
    }

    @app.before_request
    def login_required() -> tuple[str, int, dict[str, str]]:
        return "", 302, {"Location": "http://localhost/login"}

    EnforceHTTPS(app)
    response = app.test_client().get("/account")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/account"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/shop/account", 301, id="redirected-screen"),
        pytest.param("/shop/api/orders/1", 403, id="refused-api"),
        pytest.param("/shop/api/orders/999", 403, id="refused-api-unknown-id"),
    ],
)
def test_no_app_code_runs_on_a_request_that_is_not_served(
    path: str, status: int
) -> None:
    # url_value_preprocessors run before before_request hooks in Flask: a
    # preprocessor that looks an order up would see a cleartext request to a
    # TLS API, and a 404 for a missing order would tell the client it exists
    # or not.
    app = Flask("shop")
    https = EnforceHTTPS()
    shop = https.screen("tls")(Blueprint("shop", __name__, url_prefix="/shop"))
    ran: list[str] = []

    @app.url_value_preprocessor
    def app_preprocessor(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        ran.append("app url_value_preprocessor")

    @shop.url_value_preprocessor
    def find_order(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        ran.append("blueprint url_value_preprocessor")
        if values and values.get("number") == 999:
            abort(404)

    @shop.before_request
    def blueprint_hook() -> None:
        ran.append("blueprint before_request")

    @shop.get("/account")
    def account() -> str:
        ran.append("view")
        return "account"

    @shop.get("/api/orders/<int:number>")
    @https.rest()
    def order(number: int) -> dict[str, int]:
        ran.append("view")
        return {"number": number}

    app.register_blueprint(shop)
    https.init_app(app)

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    response = app.test_client().get(path)
    assert response.status_code == status
    assert ran == []
    # Our response still goes through the app's after_request hooks (CORS).
    assert response.headers["X-After"] == "1"
    assert app.test_client().get(path, base_url="https://localhost").status_code in (
        200,
        404,
    )
    assert "view" in ran or "blueprint url_value_preprocessor" in ran


def test_nothing_is_skipped_in_testing_or_debug() -> None:
    app = Flask("shop")
    app.config.update(
        TESTING=True,
        DEBUG=True,
        ENFORCE_HTTPS_SETTINGS={"environment": {"hsts": True}},
    )
    app.add_url_rule("/", "home", lambda: "home")
    EnforceHTTPS(app)
    client = app.test_client()
    assert client.get("/").status_code == 301
    secure = client.get("/", base_url="https://example.com")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


BAD_CONFIG: list[tuple[str, str, t.Any, str]] = [
    ("default-level", "ENFORCE_HTTPS_DEFAULT_SECURITY", "ssl", "expected one of"),
    ("redirect-code", "ENFORCE_HTTPS_REDIRECT_CODE", 200, "expected one of 301"),
    ("redirect-code-str", "ENFORCE_HTTPS_REDIRECT_CODE", "301", "expected one of"),
    ("redirect-code-bool", "ENFORCE_HTTPS_REDIRECT_CODE", True, "expected one of"),
    ("other-code-301", "ENFORCE_HTTPS_REDIRECT_CODE_OTHER", 301, "turn a POST"),
    ("other-code-302", "ENFORCE_HTTPS_REDIRECT_CODE_OTHER", 302, "turn a POST"),
    ("port-zero", "ENFORCE_HTTPS_PORT", 0, "from 1 to 65535"),
    ("port-big", "ENFORCE_HTTPS_PORT", 70000, "from 1 to 65535"),
    ("port-word", "ENFORCE_HTTPS_PORT", "https", "from 1 to 65535"),
    ("host-with-port", "ENFORCE_HTTPS_HOST", "example.com:8443",
     "ENFORCE_HTTPS_PORT"),
    ("host-with-scheme", "ENFORCE_HTTPS_HOST", "https://example.com", "without"),
    ("host-not-str", "ENFORCE_HTTPS_HOST", 42, "host name"),
    ("application-empty", "ENFORCE_HTTPS_APPLICATION", " ", "application's name"),
    ("settings-list", "ENFORCE_HTTPS_SETTINGS", ["hsts"], "mapping"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [pytest.param(*row[1:], id=row[0]) for row in BAD_CONFIG],
)
def test_bad_config_names_the_key(key: str, value: t.Any, problem: str) -> None:
    app = Flask("shop")
    app.config[key] = value
    with pytest.raises(ConfigurationError) as info:
        EnforceHTTPS(app)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert problem in str(info.value)
    assert "enforce_https" not in app.extensions, "nothing half-registered"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param("ENFORCE_HTTPS_PORT", "8443", 8443, id="port-str"),
        pytest.param(
            "ENFORCE_HTTPS_HOST", "WWW.Example.com", "www.example.com", id="host-lower"
        ),
        pytest.param("ENFORCE_HTTPS_HOST", "::1", "[::1]", id="host-ipv6"),
        pytest.param(
            "ENFORCE_HTTPS_HOST",
            "[2001:db8::1]",
            "[2001:db8::1]",
            id="host-ipv6-brackets",
        ),
        pytest.param("ENFORCE_HTTPS_REDIRECT_CODE", 302, 302, id="302"),
        pytest.param("ENFORCE_HTTPS_REDIRECT_CODE_OTHER", 307, 307, id="307"),
    ],
)
def test_good_config_is_normalised(key: str, value: t.Any, expected: t.Any) -> None:
    app = Flask("shop")
    app.config[key] = value
    EnforceHTTPS(app)
    state = app.extensions["enforce_https"]
    attribute = {
        "ENFORCE_HTTPS_PORT": "port",
        "ENFORCE_HTTPS_HOST": "host",
        "ENFORCE_HTTPS_REDIRECT_CODE": "redirect_code",
        "ENFORCE_HTTPS_REDIRECT_CODE_OTHER": "redirect_code_other",
    }[key]
    assert getattr(state.config, attribute) == expected


def test_bad_settings_fail_at_init_app() -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_SETTINGS"] = {"environment": {"hsts_max_age": -5}}
    with pytest.raises(SettingsError, match=r"environment\.hsts_max_age"):
        EnforceHTTPS(app)


def test_errors_share_one_base_class() -> None:
    assert issubclass(ConfigurationError, EnforceHTTPSError)
    assert issubclass(SettingsError, EnforceHTTPSError)
    assert issubclass(ConfigurationError, ValueError)


def test_config_is_validated_once_into_a_frozen_value(tmp_path: Path) -> None:
    app = Flask("shop")
    app.config.update(
        ENFORCE_HTTPS_PORT=8443,
        ENFORCE_HTTPS_AUDIT_LOG=str(tmp_path / "audit.jsonl"),
        ENFORCE_HTTPS_DEFAULT_SECURITY="tls",
    )
    EnforceHTTPS(app)
    config = app.extensions["enforce_https"].config
    assert config.audit_log == tmp_path / "audit.jsonl"
    assert config.certificate is None
    assert config.expiry_warning_days == 30
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 443  # type: ignore[misc]
    # Changing app.config afterwards changes nothing: init_app validated it.
    app.config["ENFORCE_HTTPS_PORT"] = "not a port"
    response = app.test_client().get("/")
    assert response.headers["Location"] == "https://localhost:8443/"
