"""Shared fixtures: an application with one endpoint of every kind."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, Flask, Response
from flask.testing import FlaskClient, FlaskCliRunner
from pki import test_ca_path
from werkzeug.serving import make_server
from werkzeug.test import run_wsgi_app
from werkzeug.wsgi import get_current_url

from flask_enforce_https import EnforceHTTPS

https = EnforceHTTPS()


class HostileHostClient(FlaskClient):
    """Flask's test client, which also sends requests whose ``Host`` no URL
    can hold (``[``, ``host:-1``...) to the app, as a server would.

    Werkzeug's client makes a URL of each request for its cookie jar, and
    some 3.1.x releases raise on such a host before the app sees it. No
    cookie can be for such a host: the request goes to the app through
    :func:`werkzeug.test.run_wsgi_app`, without the jar.
    """

    def run_wsgi_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, t.Any]:
        try:
            urlsplit(get_current_url(environ)).port  # noqa: B018 (raises)
        except ValueError:
            return run_wsgi_app(self.application, environ, buffered=buffered)
        return super().run_wsgi_app(environ, buffered=buffered)


def create_app(settings: t.Any = None, **config: t.Any) -> Flask:
    """Return an app named "shop" with an endpoint of every kind.

    ===================  =========  ==================================
    URL                  kind       design-time level
    ===================  =========  ==================================
    /                    screen     none (declared, no level)
    /page                screen     none (undeclared)
    /secure              screen     tls
    /account/            screen     tls (web flow 'account')
    /account/login       screen     tls (web flow 'account')
    /account/help        screen     none (its own declaration wins)
    /api/orders          rest       tls (GET, POST, PUT, DELETE)
    /api/status          rest       none
    /soap                soap       tls (POST)
    /soap/open           soap       none (POST)
    /healthz             screen     none (undeclared)
    /cookies             screen     none, sets two cookies
    /own-hsts            screen     none, sets its own HSTS header
    /partner             rest       tls-client-cert
    ===================  =========  ==================================

    Client certificates are verified against :func:`pki.test_ca`; a trusted
    proxy may pass one in ``X-SSL-Client-Cert``.
    """
    app = Flask("shop")
    app.test_client_class = HostileHostClient
    app.config.update(
        TESTING=True,
        ENFORCE_HTTPS_SETTINGS=settings,
        ENFORCE_HTTPS_CLIENT_CA=str(test_ca_path()),
        ENFORCE_HTTPS_CLIENT_CERT_HEADER="X-SSL-Client-Cert",
        # As a deployment with TLS-only screens should (else every check
        # warns with cookies-leak-to-http-screens); the cookie tests unset it.
        SESSION_COOKIE_SECURE=True,
    )
    app.config.update(config)

    @app.get("/")
    @https.screen()
    def home() -> str:
        return "home"

    @app.get("/page")
    def page() -> str:
        return "page"

    @https.screen("tls")
    @app.route("/secure", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def secure() -> str:
        return "secure"

    account = https.screen("tls")(Blueprint("account", __name__, url_prefix="/account"))

    @account.get("/")
    def account_home() -> str:
        return "account"

    @account.route("/login", methods=["GET", "POST"])
    def login() -> str:
        return "login"

    @account.get("/help")
    @https.screen("none")
    def help_page() -> str:
        return "help"

    app.register_blueprint(account)

    @app.route("/api/orders", methods=["GET", "POST", "PUT", "DELETE"])
    @https.rest()
    def orders() -> dict[str, t.Any]:
        return {"orders": []}

    @app.get("/api/status")
    @https.rest("none")
    def status() -> dict[str, t.Any]:
        return {"status": "ok"}

    @app.post("/soap")
    @https.soap("tls")
    def soap() -> Response:
        return Response("<ok/>", mimetype="text/xml")

    @app.post("/soap/open")
    @https.soap()
    def soap_open() -> Response:
        return Response("<ok/>", mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/cookies")
    def cookies() -> Response:
        response = Response("cookies")
        response.set_cookie("plain", "1")
        response.set_cookie("already", "2", secure=True)
        return response

    @app.get("/own-hsts")
    def own_hsts() -> Response:
        return Response("own", headers={"Strict-Transport-Security": "max-age=60"})

    @app.get("/partner")
    @https.rest("tls-client-cert")
    def partner() -> dict[str, t.Any]:
        return {"partner": True}

    https.init_app(app)
    return app


#: The header tests/stack_app.py adds: the gunicorn worker that answered.
PID_HEADER = "X-Worker-Pid"


@dataclass(frozen=True)
class Reply:
    """A response read whole off a real connection (``http.client``)."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def mimetype(self) -> str:
        return (self.header("Content-Type") or "").partition(";")[0].strip()

    @property
    def pid(self) -> int | None:
        """The gunicorn worker that answered, if the app answered."""
        value = self.header(PID_HEADER)
        return int(value) if value is not None else None

    def json(self) -> t.Any:
        return json.loads(self.body)


def free_ports(count: int) -> list[int]:
    """Loopback ports nothing listens on now, found by binding port 0."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def serving(app: Flask, ssl_context: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve ``app`` with werkzeug's server on a free loopback port (over TLS
    with ``ssl_context``)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def server_context(
    certificate: Path, key: Path, *, client_ca: str | None = None
) -> ssl.SSLContext:
    """A TLS server context presenting ``certificate`` (a PEM file, with its
    chain if it holds one) and ``key``; asking for (not requiring) a client
    certificate issued by ``client_ca`` (PEM text) when given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cadata=client_ca)
    return context


@contextlib.contextmanager
def serving_tls(
    app: Flask, certificate: Path, key: Path, *, client_ca: str | None = None
) -> Iterator[int]:
    """:func:`serving` over TLS with :func:`server_context`."""
    with serving(app, server_context(certificate, key, client_ca=client_ca)) as port:
        yield port


@dataclass(frozen=True)
class RawResponse:
    """A response as read off the socket."""

    status: int
    headers: list[tuple[str, str]]
    head: bytes

    def get_all(self, name: str) -> list[str]:
        """Return every value of header ``name``."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def by_name(self) -> dict[str, list[str]]:
        """Return the header values by lowercase name."""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers:
            headers.setdefault(name.lower(), []).append(value)
        return headers


@pytest.fixture
def port(app: Flask) -> Iterator[int]:
    """The port of a live server for ``app``."""
    with serving(app) as number:
        yield number


def send_raw(port: int, head: bytes) -> RawResponse:
    """Send a raw request head and read the whole response.

    ``Connection: close`` is added so that the server ends the response.
    """
    request = head.removesuffix(b"\r\n\r\n") + b"\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    raw_head, separator, _ = data.partition(b"\r\n\r\n")
    assert separator, f"incomplete response: {data!r}"
    lines = raw_head.split(b"\r\n")
    version, code, _ = lines[0].decode("ascii").split(" ", 2)
    assert version.startswith("HTTP/1.")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        assert colon, f"malformed header line {line!r}"
        headers.append((name.strip(), value.strip()))
    return RawResponse(int(code), headers, raw_head)


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, next to the fixtures that read them (--strict-markers).
    config.addinivalue_line(
        "markers", "settings(value): the administrator settings of the ``app`` fixture"
    )
    config.addinivalue_line(
        "markers", "config(**keys): the extra config keys of the ``app`` fixture"
    )


def marked_settings(request: pytest.FixtureRequest, default: t.Any) -> t.Any:
    """The value of the closest ``@pytest.mark.settings(value)``, else
    ``default``: a module overriding the ``settings`` fixture calls this."""
    marker = request.node.get_closest_marker("settings")
    if marker is None:
        return default
    (value,) = marker.args
    return value


def marked_config(
    request: pytest.FixtureRequest, default: dict[str, t.Any]
) -> dict[str, t.Any]:
    """The keys of the closest ``@pytest.mark.config(**keys)`` (all of the
    extra config, replacing ``default``), else ``default``."""
    marker = request.node.get_closest_marker("config")
    return default if marker is None else dict(marker.kwargs)


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> t.Any:
    """The administrator settings: ``@pytest.mark.settings(value)`` sets
    them for one test; parametrize ``settings`` to run a test over several."""
    return marked_settings(request, {})


@pytest.fixture
def config(request: pytest.FixtureRequest) -> dict[str, t.Any]:
    """Extra config keys: ``@pytest.mark.config(**keys)`` sets them for one
    test; parametrize ``config`` to run a test over several."""
    return marked_config(request, {})


@pytest.fixture
def app(settings: t.Any, config: dict[str, t.Any]) -> Flask:
    return create_app(settings, **config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
