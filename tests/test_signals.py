"""Signals: ``request_redirected`` and ``request_rejected``, sent by the app,
with the request, where it went or how it was refused, and why.
"""

from __future__ import annotations

import logging
import typing as t
from pathlib import Path

import blinker
import flask.signals
import pytest
from conftest import create_app, send_raw, serving
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
        pytest.param(
            {"environment": {"force_https_screens": True}},
            "environment: force_https_screens",
            id="environment",
        ),
        pytest.param(
            {"applications": {"shop": {"force_https_screens": True}}},
            "application 'shop': force_https_screens",
            id="application",
        ),
        pytest.param({"environment": {"hsts": True}}, "environment: hsts", id="hsts"),
    ],
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


@pytest.mark.settings({"environment": {"force_https_screens": True, "hsts": True}})
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
    [
        pytest.param("GET", "/api/orders", id="rest-get"),
        pytest.param("DELETE", "/api/orders", id="rest-delete"),
        pytest.param("POST", "/soap", id="soap"),
    ],
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


@pytest.mark.settings({"environment": {"force_https_integrations": True}})
def test_rejection_reason_names_the_override(app: Flask, client: FlaskClient) -> None:
    rejected = Recorder()
    with signals.request_rejected.connected_to(rejected, app):
        response = client.get("/api/status")
    assert response.status_code == 403
    assert len(rejected.calls) == 1
    _, kwargs = rejected.calls[0]
    assert kwargs["status"] == 403
    assert kwargs["reason"] == "environment: force_https_integrations"


@pytest.mark.settings({"environment": {"force_https_screens": True}})
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
        pytest.param("GET", "/secure", HTTPS, id="https-screen"),
        pytest.param("GET", "/api/orders", HTTPS, id="https-rest"),
        pytest.param("POST", "/soap", HTTPS, id="https-soap"),
        pytest.param("GET", "/", "http://localhost", id="http-screen-none"),
        pytest.param("GET", "/page", "http://localhost", id="http-undeclared"),
        pytest.param("GET", "/account/help", "http://localhost", id="http-flow-none"),
        pytest.param("GET", "/api/status", "http://localhost", id="http-rest-none"),
        pytest.param("POST", "/soap/open", "http://localhost", id="http-soap-none"),
        pytest.param("GET", "/no-such-page", "http://localhost", id="http-unmatched"),
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


# A receiver that raises ------------------------------------------------------


class Broken(Exception):
    """What a faulty receiver raises."""


def broken(sender: object, **kwargs: t.Any) -> None:
    raise Broken("a receiver's bug")


def logged_receiver_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages logged about receivers that raised, each with its
    exception attached."""
    found = []
    for record in caplog.records:
        if record.name == "flask_enforce_https" and "raised" in record.getMessage():
            assert record.levelno == logging.ERROR
            assert record.exc_info is not None
            assert isinstance(record.exc_info[1], Broken)
            found.append(record.getMessage())
    return found


@pytest.mark.parametrize(
    ("signal", "path", "status"),
    [
        pytest.param(signals.request_redirected, "/secure", 301, id="redirected"),
        pytest.param(signals.request_rejected, "/api/orders", 403, id="rejected"),
    ],
)
def test_request_receiver_that_raises_leaves_the_verdict_standing(
    app: Flask,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    signal: blinker.NamedSignal,
    path: str,
    status: int,
) -> None:
    after = Recorder()
    with signal.connected_to(broken, app), signal.connected_to(after, app):
        response = client.get(path)
    assert response.status_code == status
    if status == 301:
        assert response.headers["Location"] == f"https://localhost{path}"
    assert len(after.calls) == 1, "the other receivers still run"
    [message] = logged_receiver_errors(caplog)
    assert signal.name in message


def test_request_receiver_that_raises_is_no_500_on_a_real_server(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        signals.request_redirected.connected_to(broken, app),
        serving(app) as port,
    ):
        reply = send_raw(port, b"GET /secure HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert reply.status == 301
    assert reply.get_all("Location") == ["https://localhost/secure"]
    assert len(logged_receiver_errors(caplog)) == 1


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\n")
    return path


@pytest.fixture
def reloading(settings_file: Path) -> Flask:
    """An app that checks its settings file on every request."""
    return create_app(str(settings_file), ENFORCE_HTTPS_RELOAD_INTERVAL=0)


@pytest.mark.parametrize(
    ("signal", "content", "served"),
    [
        pytest.param(
            signals.settings_applied,
            "[environment]\nforce_https_screens = true\n",
            301,
            id="applied",
        ),
        pytest.param(
            signals.settings_rejected,
            "[environment]\nforce_https_screens = 1\n",
            200,
            id="rejected",
        ),
    ],
)
def test_settings_receiver_that_raises_stops_neither_request_nor_reload(
    reloading: Flask,
    settings_file: Path,
    caplog: pytest.LogCaptureFixture,
    signal: blinker.NamedSignal,
    content: str,
    served: int,
) -> None:
    # The reload runs in HTTPSMiddleware, outside Flask's error handling: an
    # exception there was a raw 500 from the server.
    heard: list[str] = []

    def after(sender: Flask, source: str, **kwargs: t.Any) -> None:
        heard.append(source)

    client = reloading.test_client()
    settings_file.write_text(content)
    with signal.connected_to(broken, reloading), signal.connected_to(after, reloading):
        response = client.get("/")
    assert response.status_code == served, "the new settings, or the last good ones"
    assert heard == [str(settings_file)]
    [message] = logged_receiver_errors(caplog)
    assert signal.name in message
    state = reloading.extensions["enforce_https"]
    status = state.source.status()
    assert status.state.startswith("ok" if served == 301 else "stale:")


def test_settings_receiver_that_raises_on_a_real_server(
    reloading: Flask, settings_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        signals.settings_applied.connected_to(broken, reloading),
        serving(reloading) as port,
    ):
        settings_file.write_text("[environment]\nforce_https_screens = true\n")
        reply = send_raw(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        again = send_raw(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert (reply.status, again.status) == (301, 301)
    assert len(logged_receiver_errors(caplog)) == 1


def test_coroutine_receiver_is_logged_not_left_unawaited(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def receiver(sender: Flask, **kwargs: t.Any) -> None:
        pass  # pragma: no cover - never called

    with signals.request_redirected.connected_to(receiver, app):
        response = client.get("/secure")
    assert response.status_code == 301
    assert any(
        "coroutine function" in r.getMessage() and r.levelno == logging.ERROR
        for r in caplog.records
    )


def test_muted_signal_sends_nothing(app: Flask, client: FlaskClient) -> None:
    heard = Recorder()
    with (
        signals.request_redirected.connected_to(heard, app),
        signals.request_redirected.muted(),
    ):
        assert client.get("/secure").status_code == 301
    assert heard.calls == []
