"""A minimal application for the console's security blocks: a probe
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

from flask import Blueprint, Flask, Request, Response, request
from flask.testing import FlaskClient
from pki import test_ca_path
from werkzeug.security import generate_password_hash

from flask_enforce_https import EnforceHTTPS
from flask_enforce_https.console.addresses import client_address
from flask_enforce_https.console.forgery import check_origin
from flask_enforce_https.console.roles import Authorize

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
