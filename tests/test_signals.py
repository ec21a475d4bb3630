"""Signals: ``request_redirected`` and ``request_rejected``, sent by the app,
with the request, where it went or how it was refused, and why.
"""

from __future__ import annotations

import typing as t

import blinker
import flask.signals
import pytest
from conftest import create_app
from flask import Flask, Request
from flask.testing import FlaskClient

from flask_enforce_https import signals

HTTPS = "https://example.com"


class Recorder:
    """Record every signal received, with the request path seen at the time."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, dict[str, t.Any]]] = []

    def __call__(self, sender: object, **kwargs: t.Any) -> None:
        request: Request = kwargs["request"]
        kwargs["path"] = request.path
        kwargs["method"] = request.method
        self.calls.append((sender, kwargs))


def test_redirect_of_design_time_screen(app: Flask, client: FlaskClient) -> None:
    redirected, rejected = Recorder(), Recorder()
    with (
        signals.request_redirected.connected_to(redirected, app),
        signals.request_rejected.connected_to(rejected, app),
    ):
        response = client.get("/secure")
    assert response.status_code == 301
    assert rejected.calls == []
    assert len(redirected.calls) == 1
    sender, kwargs = redirected.calls[0]
    assert sender is app
    assert set(kwargs) == {"request", "location", "reason", "path", "method"}
    assert kwargs["location"] == "https://localhost/secure"
    assert kwargs["location"] == response.headers["Location"]
    assert "design-time" in kwargs["reason"]
    assert kwargs["path"] == "/secure"
    assert kwargs["method"] == "GET"


def test_redirect_of_post_reports_its_location(app: Flask, client: FlaskClient) -> None:
    redirected = Recorder()
    with signals.request_redirected.connected_to(redirected, app):
        response = client.post("/secure?x=1")
    assert response.status_code == 308
    assert len(redirected.calls) == 1
    _, kwargs = redirected.calls[0]
    assert kwargs["location"] == "https://localhost/secure?x=1"
    assert kwargs["method"] == "POST"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"environment": {"force_https_screens": True}},
            "environment: force_https_screens",
        ),
        (
            {"applications": {"shop": {"force_https_screens": True}}},
            "application 'shop': force_https_screens",
        ),
        ({"environment": {"hsts": True}}, "environment: hsts"),
    ],
    ids=["environment", "application", "hsts"],
)
def test_redirect_reason_names_the_override(
    app: Flask, client: FlaskClient, expected: str
) -> None:
    redirected = Recorder()
    with signals.request_redirected.connected_to(redirected, app):
        response = client.get("/")
    assert response.status_code == 301
    assert len(redirected.calls) == 1
    sender, kwargs = redirected.calls[0]
    assert sender is app
    assert kwargs["location"] == "https://localhost/"
    assert expected in kwargs["reason"]
    assert "design-time" not in kwargs["reason"]


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"force_https_screens": True, "hsts": True}}],
    ids=["two-reasons"],
)
def test_redirect_reason_lists_every_cause(app: Flask, client: FlaskClient) -> None:
    redirected = Recorder()
    with signals.request_redirected.connected_to(redirected, app):
        client.get("/secure")
    (_, kwargs), *others = redirected.calls
    assert others == []
    reason = kwargs["reason"]
    for part in (
        "design-time",
        "environment: hsts",
        "environment: force_https_screens",
    ):
        assert part in reason


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/orders"), ("DELETE", "/api/orders"), ("POST", "/soap")],
    ids=["rest-get", "rest-delete", "soap"],
)
def test_refusal_sends_request_rejected(
    app: Flask, client: FlaskClient, method: str, path: str
) -> None:
    redirected, rejected = Recorder(), Recorder()
    with (
        signals.request_redirected.connected_to(redirected, app),
        signals.request_rejected.connected_to(rejected, app),
    ):
        response = client.open(path, method=method)
    assert response.status_code == 403
    assert redirected.calls == []
    assert len(rejected.calls) == 1
    sender, kwargs = rejected.calls[0]
    assert sender is app
    assert set(kwargs) == {"request", "status", "reason", "path", "method"}
    assert kwargs["status"] == 403
    assert "design-time" in kwargs["reason"]
    assert kwargs["path"] == path
    assert kwargs["method"] == method


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"force_https_integrations": True}}],
    ids=["force-integrations"],
)
def test_rejection_reason_names_the_override(app: Flask, client: FlaskClient) -> None:
    rejected = Recorder()
    with signals.request_rejected.connected_to(rejected, app):
        response = client.get("/api/status")
    assert response.status_code == 403
    assert len(rejected.calls) == 1
    _, kwargs = rejected.calls[0]
    assert kwargs["status"] == 403
    assert kwargs["reason"] == "environment: force_https_integrations"


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"force_https_screens": True}}],
    ids=["force-screens"],
)
def test_bad_host_sends_request_rejected_with_400(
    app: Flask, client: FlaskClient
) -> None:
    redirected, rejected = Recorder(), Recorder()
    with (
        signals.request_redirected.connected_to(redirected, app),
        signals.request_rejected.connected_to(rejected, app),
    ):
        response = client.get("/", headers={"Host": "bad host"})
    assert response.status_code == 400
    assert redirected.calls == []
    assert len(rejected.calls) == 1
    _, kwargs = rejected.calls[0]
    assert kwargs["status"] == 400
    assert kwargs["reason"]


@pytest.mark.parametrize(
    ("method", "path", "base_url"),
    [
        ("GET", "/secure", HTTPS),
        ("GET", "/api/orders", HTTPS),
        ("POST", "/soap", HTTPS),
        ("GET", "/", "http://localhost"),
        ("GET", "/page", "http://localhost"),
        ("GET", "/account/help", "http://localhost"),
        ("GET", "/api/status", "http://localhost"),
        ("POST", "/soap/open", "http://localhost"),
        ("GET", "/no-such-page", "http://localhost"),
    ],
    ids=[
        "https-screen",
        "https-rest",
        "https-soap",
        "http-screen-none",
        "http-undeclared",
        "http-flow-none",
        "http-rest-none",
        "http-soap-none",
        "http-unmatched",
    ],
)
def test_nothing_sent_for_served_requests(
    app: Flask, client: FlaskClient, method: str, path: str, base_url: str
) -> None:
    redirected, rejected = Recorder(), Recorder()
    with (
        signals.request_redirected.connected_to(redirected, app),
        signals.request_rejected.connected_to(rejected, app),
    ):
        response = client.open(path, method=method, base_url=base_url)
    assert response.status_code in (200, 404)
    assert redirected.calls == []
    assert rejected.calls == []


def test_connect_via_receives_only_its_app(app: Flask, client: FlaskClient) -> None:
    other = create_app()
    mine: list[str] = []
    theirs: list[str] = []

    @signals.request_redirected.connect_via(app)
    def on_mine(sender: Flask, **kwargs: t.Any) -> None:
        mine.append(kwargs["location"])

    @signals.request_redirected.connect_via(other)
    def on_theirs(sender: Flask, **kwargs: t.Any) -> None:
        theirs.append(kwargs["location"])

    try:
        assert client.get("/account/").status_code == 301
    finally:
        signals.request_redirected.disconnect(on_mine, app)
        signals.request_redirected.disconnect(on_theirs, other)
    assert mine == ["https://localhost/account/"]
    assert theirs == []


def test_signals_are_named_blinker_signals() -> None:
    assert isinstance(signals.request_redirected, blinker.NamedSignal)
    assert isinstance(signals.request_rejected, blinker.NamedSignal)
    assert signals.request_redirected.name == "request-redirected"
    assert signals.request_rejected.name == "request-rejected"
    assert signals.request_redirected is not signals.request_rejected


def test_signals_are_in_the_extensions_own_namespace() -> None:
    ours = (signals.request_redirected, signals.request_rejected)
    flasks = [s for s in vars(flask.signals).values() if isinstance(s, blinker.Signal)]
    assert flasks, "flask.signals has no signals to compare with"
    for signal in ours:
        assert all(signal is not s for s in flasks)
        assert signal.name not in {getattr(s, "name", None) for s in flasks}
        # Not in blinker's default namespace either.
        assert blinker.signal(signal.name) is not signal
