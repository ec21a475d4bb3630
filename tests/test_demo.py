"""The example application, served for real.

``python -m example_app`` runs in a subprocess on free ports, with a
temporary instance folder, and is talked to over real sockets: plain HTTP,
and TLS trusting the CA it generated, with the partner's client certificate
where one is needed. Settings are changed with the real ``flask https``
commands, in other subprocesses, while it runs.

Tests that only read share one demo; tests that change its settings or stop
it get their own.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import http.cookiejar
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Reply, accepts, free_ports
from processes import STOP_TIMEOUT, Process, running

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "example_app" / "settings.toml"
#: Bounded waits, in seconds: generous, since CI machines can be slow.
RELOAD_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0
RELOAD_INTERVAL = "0.2"

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
ORDERS_NS = "urn:flask-enforce-https-demo:orders"
SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": f'"{ORDERS_NS}#GetOrderStatus"',
}
JSON_HEADERS = {"Content-Type": "application/json"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF_FIELD = re.compile(rb'<input type="hidden" name="csrf_token" value="([^"]*)">')
CSRF_REFUSED = b"This form was refused: its CSRF token is missing or wrong"


def get_order_status(order_id: int | str) -> bytes:
    """A SOAP 1.1 ``GetOrderStatus`` request envelope."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:o="{ORDERS_NS}">'
        "<soap:Body><o:GetOrderStatus>"
        f"<o:orderId>{order_id}</o:orderId>"
        "</o:GetOrderStatus></soap:Body></soap:Envelope>"
    ).encode()


def parse_xml(data: bytes) -> ET.Element:
    """Parse a response of the demo's (trusted: it is the code under test)."""
    return ET.fromstring(data)  # noqa: S314


@dataclass(frozen=True)
class Demo:
    """A running demo process."""

    process: subprocess.Popen[bytes]
    instance: Path
    http_port: int
    https_port: int
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        """What the demo printed so far, stdout and stderr."""
        return self.log.read_text(errors="replace")

    def tls(self, client_certificate: bool = False) -> ssl.SSLContext:
        """A client context trusting the demo's CA, with the partner's
        certificate when asked."""
        context = ssl.create_default_context(cafile=str(self.instance / "ca.pem"))
        if client_certificate:
            context.load_cert_chain(
                self.instance / "partner.pem", self.instance / "partner-key.pem"
            )
        return context

    def request(
        self,
        method: str,
        path: str,
        *,
        tls: bool = False,
        client_certificate: bool = False,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request over a new connection, HTTP or HTTPS."""
        connection: http.client.HTTPConnection
        if tls:
            connection = http.client.HTTPSConnection(
                "127.0.0.1",
                self.https_port,
                timeout=REQUEST_TIMEOUT,
                context=self.tls(client_certificate),
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.http_port, timeout=REQUEST_TIMEOUT
            )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def flask(self, module: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``flask --app example_app.<module> https ARGS``, as an
        administrator would, with the demo's environment."""
        app = f"example_app.{module}"
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", app, "https", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Poll ``condition`` until it holds; fail after RELOAD_TIMEOUT."""
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what}: not within {RELOAD_TIMEOUT} s\n--- demo output ---\n"
                    + self.output()
                )
            time.sleep(0.1)


@contextlib.contextmanager
def running_demo(folder: Path) -> Iterator[Demo]:
    """Start ``python -m example_app`` with its instance in ``folder``, wait
    until both ports accept connections and it has printed its banner, and
    stop it whatever happens."""
    folder.mkdir(parents=True, exist_ok=True)
    instance = folder / "instance"
    log = folder / "demo.log"
    http_port, https_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "FLASK_APP")}
    env.update(
        HOST="127.0.0.1",
        HTTP_PORT=str(http_port),
        HTTPS_PORT=str(https_port),
        DEMO_INSTANCE=str(instance),
        DEMO_RELOAD_INTERVAL=RELOAD_INTERVAL,
        PYTHONUNBUFFERED="1",
    )

    def ready(process: Process) -> bool:
        # Listening, and done printing what to try.
        return (
            accepts(http_port)
            and accepts(https_port)
            and "Ctrl-C stops the demo." in process.output()
        )

    with running(
        "demo",
        [sys.executable, "-m", "example_app"],
        log=log,
        cwd=ROOT,
        env=env,
        ready=ready,
    ) as process:
        yield Demo(process.popen, instance, http_port, https_port, env, log)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A demo shared by the tests that do not change its settings."""
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
def own_demo(tmp_path: Path) -> Iterator[Demo]:
    """A demo of the test's own, to change its settings or stop it."""
    with running_demo(tmp_path) as running:
        yield running


def create_order(demo: Demo, item: str = "teapot", quantity: int = 2) -> int:
    reply = demo.request(
        "POST",
        "/orders/api/orders",
        tls=True,
        body=json.dumps({"item": item, "quantity": quantity}).encode(),
        headers=JSON_HEADERS,
    )
    assert reply.status == 201, reply.body
    return int(reply.json()["id"])


# --- What the demo serves with the settings of the template -----------------


def test_instance_is_prepared_from_the_template(demo: Demo) -> None:
    assert (demo.instance / "settings.toml").read_bytes() == TEMPLATE.read_bytes()
    for name in ("ca", "server", "client-ca", "partner"):
        assert (demo.instance / f"{name}.pem").is_file()
    for name in ("server-key.pem", "partner-key.pem", "secret-key", "console-password"):
        assert (demo.instance / name).stat().st_mode & 0o077 == 0


def console_password(demo: Demo) -> str:
    return (demo.instance / "console-password").read_text().strip()


def test_prints_urls_and_commands(demo: Demo) -> None:
    output = demo.output()
    assert f"http://127.0.0.1:{demo.http_port}/" in output
    assert f"https://127.0.0.1:{demo.https_port}/orders/" in output
    assert f"--cacert {demo.instance / 'ca.pem'}" in output
    assert f"--cert {demo.instance / 'partner.pem'}" in output
    assert "https set force_https_screens=true --application storefront" in output
    assert f"  console     https://127.0.0.1:{demo.https_port}/_https/\n" in output
    assert (
        f"  console:     user admin, password {console_password(demo)}"
        f" (kept in {demo.instance / 'console-password'})\n"
    ) in output
    assert (
        "  made now:    the storefront's SECRET_KEY and the console's admin password\n"
    ) in output


def test_the_console_asks_for_the_printed_password(demo: Demo) -> None:
    def console(password: str | None) -> Reply:
        headers = {}
        if password is not None:
            pair = f"admin:{password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return demo.request("GET", "/_https/", tls=True, headers=headers)

    assert console(None).status == 401
    assert console("not the password").status == 401
    page = console(console_password(demo))
    assert page.status == 200
    assert b"<h1>Overview</h1>" in page.body
    # Over HTTPS only, like the account pages.
    plain = demo.request("GET", "/_https/")
    assert plain.status == 301
    assert plain.header("Location") == f"https://127.0.0.1:{demo.https_port}/_https/"


def test_web_flow_over_http_is_redirected_to_the_https_port(demo: Demo) -> None:
    reply = demo.request("GET", "/account/")
    assert reply.status == 301
    assert reply.header("Location") == f"https://127.0.0.1:{demo.https_port}/account/"


def test_login_post_over_http_keeps_its_method(demo: Demo) -> None:
    reply = demo.request(
        "POST",
        "/account/login",
        body=b"user=ann&password=secret",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 308
    assert reply.header("Location") == (
        f"https://127.0.0.1:{demo.https_port}/account/login"
    )


def test_rest_over_http_is_refused_not_redirected(demo: Demo) -> None:
    reply = demo.request("POST", "/orders/api/orders")
    assert reply.status == 403
    assert reply.mimetype == "application/problem+json"
    assert reply.header("Location") is None
    assert reply.json()["status"] == 403


def test_web_flow_over_https_is_served_without_hsts(demo: Demo) -> None:
    reply = demo.request("GET", "/account/", tls=True)
    assert reply.status == 200
    assert b"Your account" in reply.body
    assert reply.header("Strict-Transport-Security") is None


def session_cookie(reply: Reply) -> str:
    """The ``name=value`` of the session cookie ``reply`` sets."""
    cookie = (reply.header("Set-Cookie") or "").partition(";")[0]
    assert cookie.startswith("session="), reply.headers
    return cookie


def csrf_token(reply: Reply) -> str:
    """The CSRF token of the form on the page of ``reply``."""
    match = CSRF_FIELD.search(reply.body)
    assert match is not None, reply.body
    return html.unescape(match.group(1).decode())


def login_form(demo: Demo) -> tuple[str, str]:
    """GET the login form over HTTPS: its session cookie and CSRF token."""
    form = demo.request("GET", "/account/login", tls=True)
    assert form.status == 200
    assert b'type="password"' in form.body
    return session_cookie(form), csrf_token(form)


def post_form(
    demo: Demo, path: str, fields: dict[str, str], cookie: str | None
) -> Reply:
    """POST ``fields`` over HTTPS, with the cookie if any."""
    headers = dict(FORM_HEADERS)
    if cookie is not None:
        headers["Cookie"] = cookie
    body = urllib.parse.urlencode(fields).encode()
    return demo.request("POST", path, tls=True, body=body, headers=headers)


def sign_in(demo: Demo, user: str = "ann") -> str:
    """Sign in over HTTPS; return the session cookie it sets."""
    cookie, token = login_form(demo)
    fields = {"csrf_token": token, "user": user, "password": "secret"}
    reply = post_form(demo, "/account/login", fields, cookie)
    assert reply.status == 303, reply.body
    return session_cookie(reply)


def test_login_over_https(demo: Demo) -> None:
    cookie, token = login_form(demo)
    reply = post_form(
        demo,
        "/account/login",
        {"csrf_token": token, "user": "ann", "password": "secret"},
        cookie,
    )
    assert reply.status == 303
    assert reply.header("Location") == "/account/"
    signed_in = session_cookie(reply)
    account = demo.request("GET", "/account/", tls=True, headers={"Cookie": signed_in})
    assert b"Signed in as <strong>ann</strong>" in account.body
    # Signing in gives the session a new token: the old one is worthless.
    assert csrf_token(account) != token


def test_session_cookie_is_secure_httponly_and_lax(demo: Demo) -> None:
    form = demo.request("GET", "/account/login", tls=True)
    name, _, attributes = (form.header("Set-Cookie") or "").partition(";")
    assert name.startswith("session=")
    flags = {
        a.strip().partition("=")[0].lower(): a.strip() for a in attributes.split(";")
    }
    assert "secure" in flags
    assert "httponly" in flags
    assert flags["samesite"] == "SameSite=Lax"


def test_session_cookie_never_reaches_the_plain_http_home_page(demo: Demo) -> None:
    # A browser's cookie jar: what it keeps from HTTPS, and what it then
    # sends where.
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=demo.tls()),
        urllib.request.HTTPCookieProcessor(jar),
    )
    https = f"https://127.0.0.1:{demo.https_port}"
    with browser.open(f"{https}/account/login", timeout=REQUEST_TIMEOUT) as form:
        token = csrf_token(Reply(form.status, form.headers, form.read()))
    fields = {"csrf_token": token, "user": "ann", "password": "secret"}
    with browser.open(
        f"{https}/account/login",
        data=urllib.parse.urlencode(fields).encode(),
        timeout=REQUEST_TIMEOUT,
    ) as account:  # the 303 is followed to /account/, over HTTPS
        assert account.url == f"{https}/account/"
        assert b"Signed in as <strong>ann</strong>" in account.read()
    [cookie] = list(jar)
    assert (cookie.name, cookie.domain) == ("session", "127.0.0.1")

    # The home page, plain HTTP on the same host: a cookie without Secure
    # would go with the request, in cleartext.
    home = urllib.request.Request(f"http://127.0.0.1:{demo.http_port}/")
    with browser.open(home, timeout=REQUEST_TIMEOUT) as page:
        assert page.status == 200
        assert b"Welcome to the storefront" in page.read()
    assert not home.has_header("Cookie"), home.unredirected_hdrs
    assert cookie.secure
    # Over HTTPS, the same host gets it.
    again = urllib.request.Request(f"https://127.0.0.1:{demo.https_port}/account/")
    with browser.open(again, timeout=REQUEST_TIMEOUT) as page:
        assert b"Signed in as <strong>ann</strong>" in page.read()
    assert again.has_header("Cookie")


@pytest.mark.parametrize(
    ("token", "with_cookie"),
    [
        pytest.param(None, True, id="no-token"),
        pytest.param("", True, id="empty-token"),
        pytest.param("wrong", True, id="wrong-token"),
        pytest.param("é" * 43, True, id="non-ascii-token"),
        pytest.param("form", False, id="no-session"),
        pytest.param("", False, id="no-session-empty-token"),
        pytest.param("other-session", True, id="another-session-s-token"),
    ],
)
def test_login_without_the_session_s_csrf_token_is_refused(
    demo: Demo, token: str | None, with_cookie: bool
) -> None:
    cookie, form_token = login_form(demo)
    sent = {"form": form_token, "other-session": login_form(demo)[1]}.get(
        token or "", token
    )
    fields = {"user": "mallory", "password": "secret"}
    if sent is not None:
        fields["csrf_token"] = sent
    reply = post_form(demo, "/account/login", fields, cookie if with_cookie else None)
    assert reply.status == 400
    assert CSRF_REFUSED in reply.body
    # The form again, with a token to send it with; not signed in.
    assert csrf_token(reply)
    assert b'value="mallory"' in reply.body
    assert reply.header("Location") is None
    account = demo.request("GET", "/account/", tls=True, headers={"Cookie": cookie})
    assert b"You are not signed in" in account.body


def test_logout_needs_the_csrf_token(demo: Demo) -> None:
    cookie = sign_in(demo, "bob")
    refused = post_form(demo, "/account/logout", {}, cookie)
    assert refused.status == 400
    assert CSRF_REFUSED in refused.body
    assert b"Signed in as <strong>bob</strong>" in refused.body
    token = csrf_token(refused)
    done = post_form(demo, "/account/logout", {"csrf_token": token}, cookie)
    assert done.status == 303
    account = demo.request(
        "GET", "/account/", tls=True, headers={"Cookie": session_cookie(done)}
    )
    assert b"You are not signed in" in account.body


def test_login_page_says_what_is_protected(demo: Demo) -> None:
    page = demo.request("GET", "/account/login", tls=True).body
    text = " ".join(re.sub(rb"<[^>]+>", b" ", page).decode().split())
    for claim in [
        "every page under /account/",
        "is served only over HTTPS",
        "marked Secure , so your browser never sends it over plain HTTP,"
        " not even to this site's home page",
        "HttpOnly",
        "SameSite=Lax",
        "this form carries a token tied to your session",
        "refused with 400",
        "the home page and the static files are served over plain HTTP too",
    ]:
        assert claim in text, claim


def test_public_pages_are_served_over_http(demo: Demo) -> None:
    home = demo.request("GET", "/")
    assert home.status == 200
    assert b"/static/style.css" in home.body
    style = demo.request("GET", "/static/style.css")
    assert style.status == 200
    assert style.mimetype == "text/css"
    health = demo.request("GET", "/healthz")
    assert (health.status, health.body) == (200, b"ok\n")


def test_rest_api_over_https(demo: Demo) -> None:
    created = demo.request(
        "POST",
        "/orders/api/orders",
        tls=True,
        body=b'{"item": "kettle", "quantity": 3}',
        headers=JSON_HEADERS,
    )
    assert created.status == 201
    order = created.json()
    assert order == {
        "id": order["id"],
        "item": "kettle",
        "quantity": 3,
        "status": "received",
    }
    location = created.header("Location")
    assert location == f"/orders/api/orders/{order['id']}"
    fetched = demo.request("GET", location, tls=True)
    assert (fetched.status, fetched.json()) == (200, order)
    missing = demo.request("GET", "/orders/api/orders/999999", tls=True)
    assert missing.status == 404
    assert missing.mimetype == "application/problem+json"
    invalid = demo.request(
        "POST",
        "/orders/api/orders",
        tls=True,
        body=b'{"quantity": 3}',
        headers=JSON_HEADERS,
    )
    assert invalid.status == 400
    assert invalid.mimetype == "application/problem+json"
    not_allowed = demo.request("PUT", "/orders/api/orders", tls=True)
    assert not_allowed.status == 405
    assert not_allowed.mimetype == "application/problem+json"


def test_soap_service_and_wsdl_over_https(demo: Demo) -> None:
    order_id = create_order(demo)
    reply = demo.request(
        "POST",
        "/orders/soap",
        tls=True,
        body=get_order_status(order_id),
        headers=SOAP_HEADERS,
    )
    assert reply.status == 200, reply.body
    assert reply.mimetype == "text/xml"
    response = parse_xml(reply.body).find(
        f"{{{SOAP_ENV}}}Body/{{{ORDERS_NS}}}GetOrderStatusResponse"
    )
    assert response is not None
    assert response.findtext(f"{{{ORDERS_NS}}}orderId") == str(order_id)
    assert response.findtext(f"{{{ORDERS_NS}}}status") == "received"

    wsdl = demo.request("GET", "/orders/soap?wsdl", tls=True)
    assert wsdl.status == 200
    address = parse_xml(wsdl.body).find(
        f"{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/{{{WSDL_SOAP_NS}}}address"
    )
    assert address is not None
    assert address.get("location") == (
        f"https://127.0.0.1:{demo.https_port}/orders/soap"
    )


def test_soap_unknown_order_is_a_client_fault(demo: Demo) -> None:
    reply = demo.request(
        "POST",
        "/orders/soap",
        tls=True,
        body=get_order_status(999999),
        headers=SOAP_HEADERS,
    )
    assert reply.status == 500  # SOAP 1.1 over HTTP: every Fault is a 500
    fault = parse_xml(reply.body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"


def test_soap_refuses_a_doctype(demo: Demo) -> None:
    body = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        + get_order_status("&e;").partition(b"\n")[2]
    )
    reply = demo.request("POST", "/orders/soap", body=body, headers=SOAP_HEADERS)
    assert reply.status == 500
    fault = parse_xml(reply.body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert "DOCTYPE" in (fault.findtext("faultstring") or "")
    assert b"root:" not in reply.body


def test_partner_with_its_client_certificate(demo: Demo) -> None:
    reply = demo.request(
        "GET", "/orders/partner/orders", tls=True, client_certificate=True
    )
    assert reply.status == 200, reply.body
    assert reply.json()["partner"] == "acme-logistics"


def test_partner_without_a_client_certificate_is_refused(demo: Demo) -> None:
    reply = demo.request("GET", "/orders/partner/orders", tls=True)
    assert reply.status == 403
    assert reply.mimetype == "application/problem+json"
    assert "client certificate" in reply.json()["detail"]
    cleartext = demo.request("GET", "/orders/partner/orders")
    assert cleartext.status == 403
    assert cleartext.header("Location") is None


def test_a_silent_connection_does_not_hold_up_https(demo: Demo) -> None:
    # A client that connects and never starts the TLS handshake.
    with socket.create_connection(("127.0.0.1", demo.https_port), timeout=5):
        reply = demo.request("GET", "/account/", tls=True)
    assert reply.status == 200


def test_flask_https_show_reads_the_instance_settings(demo: Demo) -> None:
    result = demo.flask("orders", "show", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["endpoint"]: row for row in json.loads(result.stdout)}
    assert rows["partner.partner_orders"]["effective"] == "tls-client-cert"
    assert rows["soap.soap_service"]["effective"] == "none"
    table = demo.flask("storefront", "show")
    assert table.returncode == 0, table.stderr
    assert "Application: storefront" in table.stdout
    assert str(demo.instance / "settings.toml") in table.stdout


def test_flask_https_check_accepts_the_demo_certificate(demo: Demo) -> None:
    result = demo.flask(
        "storefront",
        "check",
        "--url",
        f"https://127.0.0.1:{demo.https_port}",
        "--hostname",
        "localhost",
        "--hostname",
        "127.0.0.1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
    # The session cookie is Secure: nothing about it to warn of.
    assert "[cookies-" not in result.stdout


# --- Settings changed while it runs, and stopping it ------------------------


def test_forced_screens_reach_the_running_server(own_demo: Demo) -> None:
    assert own_demo.request("GET", "/").status == 200
    result = own_demo.flask(
        "storefront", "set", "force_https_screens=true", "--application", "storefront"
    )
    assert result.returncode == 0, result.stderr
    assert "storefront.force_https_screens: null -> true" in result.stdout
    own_demo.wait_for(
        lambda: own_demo.request("GET", "/").status == 301,
        "GET / redirected after force_https_screens",
    )
    home = own_demo.request("GET", "/")
    assert home.header("Location") == f"https://127.0.0.1:{own_demo.https_port}/"
    # Exempt: still served as it comes.
    assert own_demo.request("GET", "/healthz").status == 200
    # Every screen forced, and the session cookie Secure already.
    check = own_demo.flask("storefront", "check", "--format", "json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert not [f for f in json.loads(check.stdout) if f["id"].startswith("cookies-")]
    # Only the storefront's screens: the orders' SOAP service is unchanged.
    soap = own_demo.request(
        "POST", "/orders/soap", body=get_order_status(1), headers=SOAP_HEADERS
    )
    assert soap.status == 200  # order 1, which the demo starts with: no refusal
    assert soap.mimetype == "text/xml"


def test_forced_integrations_refuse_soap_over_http(own_demo: Demo) -> None:
    order_id = create_order(own_demo)

    def soap_over_http() -> Reply:
        return own_demo.request(
            "POST",
            "/orders/soap",
            body=get_order_status(order_id),
            headers=SOAP_HEADERS,
        )

    assert soap_over_http().status == 200
    result = own_demo.flask(
        "orders", "set", "force_https_integrations=true", "--application", "orders"
    )
    assert result.returncode == 0, result.stderr
    own_demo.wait_for(
        lambda: soap_over_http().status == 403,
        "SOAP over HTTP refused after force_https_integrations",
    )
    reply = soap_over_http()
    assert reply.mimetype == "text/xml"
    assert reply.header("Location") is None
    fault = parse_xml(reply.body).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert "HTTPS" in (fault.findtext("faultstring") or "")
    # Over HTTPS it still answers; the storefront is unchanged.
    secure = own_demo.request(
        "POST",
        "/orders/soap",
        tls=True,
        body=get_order_status(order_id),
        headers=SOAP_HEADERS,
    )
    assert secure.status == 200
    assert own_demo.request("GET", "/").status == 200


def test_hsts_once_enabled_and_loopback_not_excluded(own_demo: Demo) -> None:
    # 127.0.0.1 is excluded from HSTS by default: the settings must say
    # otherwise for it to show here.
    def hsts() -> str | None:
        reply = own_demo.request("GET", "/account/", tls=True)
        return reply.header("Strict-Transport-Security")

    assert hsts() is None
    result = own_demo.flask("storefront", "set", "hsts=true", "hsts_excluded_hosts=[]")
    assert result.returncode == 0, result.stderr
    own_demo.wait_for(
        lambda: hsts() is not None, "HSTS on HTTPS responses after hsts=true"
    )
    assert hsts() == "max-age=31536000"
    # Never over plain HTTP; and HSTS forces every screen to HTTPS.
    cleartext = own_demo.request("GET", "/")
    assert cleartext.status == 301
    assert cleartext.header("Strict-Transport-Security") is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_a_signal(own_demo: Demo, signum: signal.Signals) -> None:
    own_demo.process.send_signal(signum)
    try:
        code = own_demo.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_TIMEOUT} s after {signum.name}")
    assert code == 0, own_demo.output()
    assert "Stopped." in own_demo.output()
    assert not accepts(own_demo.http_port)
    assert not accepts(own_demo.https_port)
