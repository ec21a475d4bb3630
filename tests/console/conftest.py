"""The console's fixtures: a real browser against the demo (see
:mod:`.browsers`), and a minimal application for its security blocks.

A minimal application for the console's security blocks: a probe
blueprint at ``/_https`` that calls them as the console will, in an app
that uses the extension for real (its middleware, its trusted proxies, its
client-certificate verification).

=====================  ======  =============================================
URL                    method  answers
=====================  ======  =============================================
/_https/role           GET     the authorizer's role; 401 (with its
                               ``challenge``) for ``None``; 429 when it
                               raises ``TooManyAttempts``
/_https/address        GET     ``client_address(request.environ)``
/_https/change         POST    ``check_origin(request)``: 403 with the
                               reason, else "changed"
=====================  ======  =============================================
"""

from __future__ import annotations

import base64
import typing as t
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask, Request, Response, request
from flask.testing import FlaskClient
from pki import test_ca_path
from test_demo import Demo, running_demo
from werkzeug.security import generate_password_hash

from flask_enforce_https import EnforceHTTPS
from flask_enforce_https.console.addresses import client_address
from flask_enforce_https.console.forgery import check_origin
from flask_enforce_https.console.roles import Authorize

from .browsers import ARTIFACTS, CHROMIUM_ARGS, artifact_name, chromium_path

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

console_https = EnforceHTTPS()

#: Where the tests' console is, as the browser sees it.
CONSOLE = "https://console.example"
#: The trusted proxy of :data:`BEHIND_PROXY`.
PROXY = "127.0.0.1"
BEHIND_PROXY: dict[str, t.Any] = {"environment": {"trusted_proxies": [PROXY]}}
#: A cheap hash method, so that the tests do not spend their time in scrypt.
CHEAP = "pbkdf2:sha256:1000"


def cheap_hash(password: str) -> str:
    """A werkzeug hash of ``password`` that is quick to check."""
    return generate_password_hash(password, CHEAP)


def nobody(request: Request) -> None:
    """An authorizer that lets nobody in."""
    return


def create_console_app(
    authorize: Authorize = nobody,
    settings: t.Any = None,
    level: str | None = None,
    **config: t.Any,
) -> Flask:
    """Return an app with the probe blueprint, declared at ``level``
    (by default the authorizer's ``level``, else ``tls``).

    :param authorize: What ``/_https/role`` asks.
    :param settings: ``ENFORCE_HTTPS_SETTINGS``.
    :param level: The probe's level.
    :param config: More config keys.
    """
    app = Flask("console_probe")
    app.config.update(
        TESTING=True,
        SECRET_KEY="console tests",
        ENFORCE_HTTPS_SETTINGS=settings,
        ENFORCE_HTTPS_CLIENT_CA=str(test_ca_path()),
        ENFORCE_HTTPS_CLIENT_CERT_HEADER="X-SSL-Client-Cert",
    )
    app.config.update(config)
    declared = level or getattr(authorize, "level", "tls")
    probe = console_https.screen(declared)(
        Blueprint("probe", __name__, url_prefix="/_https")
    )

    @probe.get("/role")
    def role() -> Response:
        found = authorize(request)
        if found is None:
            challenge = getattr(authorize, "challenge", None)
            headers = {"WWW-Authenticate": challenge} if challenge else {}
            return Response("nobody", 401, headers)
        return Response(found)

    @probe.get("/address")
    def address() -> str:
        return client_address(request.environ)

    @probe.post("/change")
    def change() -> Response:
        reason = check_origin(request)
        if reason is not None:
            return Response(reason, 403)
        return Response("changed")

    app.register_blueprint(probe)
    console_https.init_app(app)
    return app


def basic(user: str, password: str) -> dict[str, str]:
    """The ``Authorization`` header of HTTP Basic credentials (UTF-8)."""
    pair = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def sign_in(
    client: FlaskClient,
    user: str,
    password: str,
    peer: str = "192.0.2.1",
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Ask ``/_https/role`` with HTTP Basic credentials from ``peer``;
    return the status and the body (the role) or ``Retry-After``."""
    response = client.get(
        "/_https/role",
        base_url=CONSOLE,
        headers={**basic(user, password), **(headers or {})},
        environ_base={"REMOTE_ADDR": peer},
    )
    if response.status_code == 429:
        return 429, str(response.headers["Retry-After"])
    return response.status_code, response.get_data(as_text=True)


# --- A real browser against the demo ----------------------------------------

#: The reason of the revision the demo's console starts with, so that the
#: browser's changes always have one before them to revert to.
BASELINE_REASON = "the browser tests' starting point"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> t.Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, for :func:`console_page` to
    see whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def console_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo, its console at ``/_https/``, with one revision in its
    history (``secure_cookies`` on for the storefront, made with ``flask
    https set``)."""
    with running_demo(tmp_path_factory.mktemp("console-demo")) as demo:
        result = demo.flask(
            "storefront",
            "set",
            "secure_cookies=true",
            "--application",
            "storefront",
            "--reason",
            BASELINE_REASON,
        )
        assert result.returncode == 0, result.stderr
        yield demo


@pytest.fixture
def console_page(
    request: pytest.FixtureRequest, chromium: Browser, console_demo: Demo
) -> Iterator[Page]:
    """A page of a new browser context signed in to the demo's console;
    screenshot to test-artifacts/ when the test fails."""
    password = (console_demo.instance / "console-password").read_text().strip()
    context = chromium.new_context(
        base_url=f"https://127.0.0.1:{console_demo.https_port}",
        # The demo's own CA: Chromium would need it in an NSS database.
        ignore_https_errors=True,
        http_credentials={"username": "admin", "password": password},
        viewport={"width": 1024, "height": 768},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / artifact_name(request.node.nodeid)),
                full_page=True,
            )
    finally:
        context.close()
