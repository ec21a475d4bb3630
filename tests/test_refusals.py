"""Refusals as exceptions: a handler for HTTPSRequired (or a subclass) on the
app or a blueprint replaces the extension's body; a generic 403 or
HTTPException handler does not."""

from __future__ import annotations

import typing as t

import pytest
from conftest import create_app
from flask import Blueprint, Flask, Response
from werkzeug.exceptions import Forbidden, HTTPException

from flask_enforce_https import (
    ClientCertificateRequired,
    EnforceHTTPS,
    HTTPSRequired,
    Kind,
    UntrustedHost,
    signals,
)

HTTPS = "https://localhost"


def test_without_a_handler_the_body_is_the_extensions() -> None:
    response = create_app({}).test_client().post("/api/orders")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_a_handler_for_https_required_replaces_the_body() -> None:
    app = create_app({})
    seen: list[HTTPSRequired] = []

    @app.errorhandler(HTTPSRequired)
    def handle(error: HTTPSRequired) -> tuple[str, int]:
        seen.append(error)
        return f"use https: {error.kind.value}", 403

    @app.after_request
    def after(response: Response) -> Response:
        response.headers["X-After"] = "1"
        return response

    rejected: list[dict[str, t.Any]] = []
    with signals.request_rejected.connected_to(
        lambda sender, **kw: rejected.append(kw), app
    ):
        response = app.test_client().post("/api/orders")
    assert (response.status_code, response.text) == (403, "use https: rest")
    assert response.headers["X-After"] == "1"
    assert len(rejected) == 1, "signals still fire"
    [error] = seen
    assert error.kind is Kind.REST
    assert "HTTPS" in error.detail
    assert "orders" in error.reason
    # The exception's own response is the extension's body.
    assert error.get_response().mimetype == "application/problem+json"


def test_client_certificate_required_is_https_required() -> None:
    app = create_app({})
    caught: list[type[Exception]] = []

    @app.errorhandler(HTTPSRequired)
    def handle(error: HTTPSRequired) -> tuple[str, int]:
        caught.append(type(error))
        return "handled", 403

    response = app.test_client().get("/partner", base_url=HTTPS)
    assert (response.status_code, response.text) == (403, "handled")
    assert caught == [ClientCertificateRequired]


def test_untrusted_host_has_its_own_class() -> None:
    app = create_app({})

    @app.errorhandler(UntrustedHost)
    def handle(error: UntrustedHost) -> tuple[str, int]:
        return f"bad host: {error.kind.value}", 400

    response = app.test_client().get("/secure", headers={"Host": "a@b"})
    assert (response.status_code, response.text) == (400, "bad host: screen")


@pytest.mark.parametrize(
    "generic",
    [pytest.param(403, id="code"), pytest.param(Forbidden, id="forbidden"),
     pytest.param(HTTPException, id="http-exception")],
)  # fmt: skip
def test_a_generic_handler_does_not_replace_the_body(
    generic: int | type[Exception],
) -> None:
    app = create_app({})
    app.register_error_handler(generic, lambda error: ("generic", 403))
    api = app.test_client().post("/api/orders")
    assert api.mimetype == "application/problem+json"
    soap = app.test_client().post(
        "/soap", data="<x/>", headers={"Content-Type": "text/xml"}
    )
    assert soap.mimetype == "text/xml"
    assert b"Fault" in soap.data


def test_a_blueprint_handler_replaces_the_body_for_its_views() -> None:
    app = Flask("shop")
    https = EnforceHTTPS()
    api = https.rest()(Blueprint("api", __name__, url_prefix="/api"))
    api.add_url_rule("/orders", "orders", lambda: {}, methods=["POST"])

    @api.errorhandler(HTTPSRequired)
    def handle(error: HTTPSRequired) -> tuple[str, int]:
        return "from the blueprint", 403

    app.register_blueprint(api)
    app.add_url_rule("/other", "other", https.rest()(lambda: {}), methods=["POST"])
    https.init_app(app)
    client = app.test_client()
    assert client.post("/api/orders").text == "from the blueprint"
    assert client.post("/other").mimetype == "application/problem+json"


def test_check_says_a_generic_handler_does_not_replace_refusals() -> None:
    app = create_app({})
    app.register_error_handler(403, lambda error: ("generic", 403))
    result = app.test_cli_runner().invoke(args=["https", "check"])
    assert "[refusal-handler-generic]" in result.output
    assert (
        "does not replace"
        not in create_app({}).test_cli_runner().invoke(args=["https", "check"]).output
    )


def test_a_blueprint_generic_handler_beats_the_apps_refusal_handler() -> None:
    # Flask picks the blueprint's 403 handler before the app's handler for
    # HTTPSRequired: that generic one must not replace the API's body.
    app = Flask("shop")
    https = EnforceHTTPS()
    api = https.rest()(Blueprint("api", __name__, url_prefix="/api"))
    api.add_url_rule("/orders", "orders", lambda: {}, methods=["POST"])
    api.register_error_handler(403, lambda error: ("generic blueprint page", 403))
    app.register_blueprint(api)
    app.register_error_handler(HTTPSRequired, lambda error: ("app handler", 403))
    https.init_app(app)
    response = app.test_client().post("/api/orders")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
