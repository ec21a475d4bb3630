"""The example app behind a real nginx and a real gunicorn.

nginx terminates TLS on one free loopback port and serves plain HTTP on
another, asks for a client certificate without insisting
(``ssl_verify_client optional``) and passes what it saw to gunicorn in
``X-Forwarded-Proto``, ``X-Forwarded-Host``, ``X-Forwarded-Port`` and
``X-SSL-Client-Cert`` (dropping any ``Forwarded`` the client sent).
gunicorn runs :mod:`stack_app` (the demo's two applications) with
``trusted_proxies = ["127.0.0.1"]``, HSTS on for every host, and
``ENFORCE_HTTPS_PORT`` set to nginx's TLS port.

Two more gunicorns, talked to directly, trust only ``10.255.255.1``, one
over plain HTTP and one serving TLS itself: there a client that forges the
forwarded headers, or the client certificate header, gets nothing for it.
(From 127.0.0.1 the first gunicorn cannot tell a forging client from nginx,
which is why a deployment trusts the proxy's address only if clients cannot
reach the WSGI server from it.) gunicorn's own ``forwarded_allow_ips`` is
set to ``10.255.255.1`` everywhere: with its default, 127.0.0.1, gunicorn
would itself turn a forged ``X-Forwarded-Proto: https`` into
``wsgi.url_scheme = "https"`` before the extension sees the request.

Everything runs on 127.0.0.1 with certificates made now
(:mod:`pki`). Without nginx or gunicorn these tests skip, loudly; with
``CI`` set they fail instead. The helpers here also serve
``test_reload_under_load``.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import importlib.util
import os
import shutil
import ssl
import subprocess
import sys
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import Reply, accepts, free_ports
from pki import CA, DAY, Issued
from pki import test_ca as session_ca
from pki import test_ca_path as session_ca_path
from processes import Process, running

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
#: Bounded waits, in seconds: generous, since CI machines can be slow.
REQUEST_TIMEOUT = 10.0
CLIENT_CERT_HEADER = "X-SSL-Client-Cert"
#: An address no test client has: the untrusted gunicorn's only proxy.
ELSEWHERE = "10.255.255.1"
PARTNER = "/orders/partner/orders"

# --- Helpers, shared with test_reload_under_load ------------------------------


def unavailable(message: str) -> t.NoReturn:
    """Skip the test loudly; fail it when the ``CI`` variable is set, where
    the tool must be there."""
    message = f"NOT TESTED, {message}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: install it)", pytrace=False)
    pytest.skip(message)


def nginx_binary() -> str:
    """The nginx executable, also looked for in the sbin folders."""
    path = os.pathsep.join([os.environ.get("PATH", os.defpath), "/usr/sbin", "/sbin"])
    found = shutil.which("nginx", path=path)
    if found is None:
        unavailable(
            "nginx is not installed (apt-get install nginx): the nginx +"
            " gunicorn stack is not tested"
        )
    return found


def require_gunicorn() -> None:
    """Skip (or fail on CI) when gunicorn is not installed in this venv."""
    if importlib.util.find_spec("gunicorn") is None:
        unavailable(
            "gunicorn is not installed (pip install gunicorn, or the 'test'"
            " extra): tests that run the app under gunicorn are not tested"
        )


@functools.cache
def _gunicorn_has_control_socket() -> bool:
    # gunicorn 25+ opens a control socket, by default one per user in
    # ~/.gunicorn: two servers at once would share it. Older ones have none,
    # and reject the option that turns it off.
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "--no-control-socket" in result.stdout


def fetch(
    port: int,
    path: str,
    *,
    method: str = "GET",
    tls: ssl.SSLContext | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    """Send one request to 127.0.0.1 over a new connection, and close it.

    :param tls: A client TLS context for HTTPS; plain HTTP when ``None``.
    """
    connection: http.client.HTTPConnection
    if tls is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=tls
        )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def app_env(
    instance: Path,
    *,
    https_port: int,
    reload_interval: float = 2.0,
    client_ca: Path | None = None,
) -> dict[str, str]:
    """The environment :mod:`stack_app` and ``flask --app example_app...``
    read: the instance folder, the HTTPS port, the reload interval and the
    client certificate settings."""
    drop = ("PORT", "HTTP_PORT", "HOST", "FLASK_APP", "ENFORCE_HTTPS_SETTINGS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    python_path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        DEMO_INSTANCE=str(instance),
        HTTPS_PORT=str(https_port),
        DEMO_RELOAD_INTERVAL=str(reload_interval),
        STACK_CLIENT_CERT_HEADER=CLIENT_CERT_HEADER,
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONUNBUFFERED="1",
    )
    if client_ca is not None:
        env["STACK_CLIENT_CA"] = str(client_ca)
    return env


def instance_with(folder: Path, settings: str) -> Path:
    """Make an instance folder in ``folder`` whose settings file holds
    ``settings``; the demo makes its certificates there when it starts."""
    instance = folder / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "settings.toml").write_text(settings)
    return instance


def answers(
    port: int, tls: ssl.SSLContext | None = None, path: str = "/healthz"
) -> bool:
    """Whether the app answers ``path`` on the port with 200."""
    try:
        return fetch(port, path, tls=tls, timeout=5).status == 200
    except (OSError, http.client.HTTPException):
        return False


@contextlib.contextmanager
def gunicorn(
    folder: Path,
    port: int,
    env: dict[str, str],
    workers: int,
    *,
    tls: tuple[Path, Path, ssl.SSLContext] | None = None,
    entry: str = "stack_app:app",
    preload: bool = False,
    ready_path: str = "/healthz",
) -> Iterator[Process]:
    """Serve :mod:`stack_app` (or ``entry``) with gunicorn on
    127.0.0.1:``port`` until the context ends; ready once it answers
    ``ready_path`` with 200.

    gunicorn itself believes ``X-Forwarded-Proto`` from the addresses in its
    ``forwarded_allow_ips`` (127.0.0.1 by default) and then says ``https``
    in ``wsgi.url_scheme``; here it believes only ELSEWHERE, which no test
    client is, so that whatever is concluded from forwarded headers is the
    extension's doing alone.

    :param tls: The certificate and key for gunicorn to serve HTTPS itself,
        and a client context that trusts it; plain HTTP when ``None``.
    :param preload: Load the app in the master, before the workers fork.
    """
    require_gunicorn()
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--pythonpath",
        f"{ROOT},{TESTS}",
        "--graceful-timeout",
        "5",
        "--worker-tmp-dir",
        str(folder),
        "--error-logfile",
        "-",
        "--forwarded-allow-ips",
        ELSEWHERE,
    ]
    context = None
    if tls is not None:
        certificate, key, context = tls
        command += ["--certfile", str(certificate), "--keyfile", str(key)]
    if preload:
        command.append("--preload")
    if _gunicorn_has_control_socket():
        command.append("--no-control-socket")
    command.append(entry)
    with running(
        "gunicorn",
        command,
        log=folder / "gunicorn.log",
        cwd=folder,
        env=env,
        ready=lambda _: answers(port, context, ready_path),
    ) as process:
        yield process


_NGINX_PROXY = """\
            proxy_pass http://stack_app;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
            proxy_set_header Forwarded "";"""


def nginx_config(
    folder: Path,
    *,
    upstream: int,
    http_port: int,
    tls_port: int,
    certificate: Path,
    key: Path,
    client_ca: Path,
) -> str:
    """An nginx config whose every path is in ``folder``: TLS on
    ``tls_port``, plain HTTP on ``http_port``, both proxied to gunicorn on
    ``upstream``."""
    # As root, nginx's workers would switch to nobody, who cannot enter
    # pytest's temporary folders; they stay root instead.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""\
worker_processes 1;
{user}
pid "{folder}/nginx.pid";
error_log stderr info;
events {{
    worker_connections 256;
}}
http {{
    access_log "{folder}/access.log";
    client_body_temp_path "{folder}/client_body";
    proxy_temp_path "{folder}/proxy";
    fastcgi_temp_path "{folder}/fastcgi";
    uwsgi_temp_path "{folder}/uwsgi";
    scgi_temp_path "{folder}/scgi";
    upstream stack_app {{
        server 127.0.0.1:{upstream};
    }}
    server {{
        listen 127.0.0.1:{http_port};
        location / {{
{_NGINX_PROXY}
        }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate "{certificate}";
        ssl_certificate_key "{key}";
        ssl_client_certificate "{client_ca}";
        ssl_verify_client optional;
        location / {{
{_NGINX_PROXY}
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(folder: Path, config: str, ports: tuple[int, ...]) -> Iterator[Process]:
    """Run nginx with ``config`` (written to ``folder``) in the foreground
    until the context ends; ready once every port in ``ports`` accepts."""
    binary = nginx_binary()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(config)
    command = [
        binary,
        "-p",
        str(folder),
        "-c",
        str(folder / "nginx.conf"),
        "-e",
        "stderr",
        "-g",
        "daemon off;",
    ]
    with running(
        "nginx",
        command,
        log=folder / "nginx.log",
        cwd=folder,
        env=None,
        ready=lambda _: all(accepts(port) for port in ports),
    ) as process:
        yield process


# --- Certificates ------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """What the stack needs, written to ``folder``.

    ``server`` is nginx's certificate for 127.0.0.1 and localhost, from
    ``server_ca``; ``partner`` a client certificate from the session's client
    CA (:func:`pki.test_ca`), ``expired`` another that has expired and
    ``foreign`` one from a CA nobody trusts.
    """

    folder: Path
    server_ca: Path
    client_ca: Path
    server: Issued
    partner: Issued
    expired: Issued
    foreign: Issued

    def files(self, name: str) -> tuple[Path, Path]:
        """The certificate and key files of ``name`` ("server", "partner"...)."""
        return self.folder / f"{name}.crt", self.folder / f"{name}.key"

    def context(self, client: str | None = None) -> ssl.SSLContext:
        """A client context that trusts the server CA, presenting the client
        certificate ``client`` when given."""
        context = ssl.create_default_context(cafile=str(self.server_ca))
        if client is not None:
            certificate, key = self.files(client)
            context.load_cert_chain(certificate, key)
        return context


def make_certificates(folder: Path) -> Certificates:
    """Issue and write the stack's certificates in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    server_ca = CA("Stack Test Server CA")
    server = server_ca.issue("127.0.0.1", dns=("localhost",), ips=("127.0.0.1",))
    partner = session_ca().issue("stack-partner", dns=(), ips=(), usage="client")
    expired = session_ca().issue(
        "stack-expired",
        dns=(),
        ips=(),
        usage="client",
        starts=-30 * DAY,
        lasts=10 * DAY,
    )
    foreign = CA("Stack Foreign CA").issue(
        "stack-foreign", dns=(), ips=(), usage="client"
    )
    certificates = Certificates(
        folder,
        folder / "server-ca.pem",
        session_ca_path(),
        server,
        partner,
        expired,
        foreign,
    )
    certificates.server_ca.write_bytes(server_ca.pem())
    for name in ("server", "partner", "expired", "foreign"):
        issued: Issued = getattr(certificates, name)
        issued.write(folder, name)
    return certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("stack-pki"))


# --- The stacks --------------------------------------------------------------

SETTINGS = """\
[environment]
trusted_proxies = [{proxy}]
hsts = true
hsts_excluded_hosts = []
exempt_paths = ["/healthz"]
"""
HSTS = "max-age=31536000"
#: Where the untrusted servers send redirects: no one listens there.
UNTRUSTED_HTTPS_PORT = 9443


@dataclass(frozen=True)
class Stack:
    """nginx in front of gunicorn."""

    http_port: int
    tls_port: int
    app_port: int
    certificates: Certificates
    nginx: Process
    gunicorn: Process

    def tls(self, client: str | None = None) -> ssl.SSLContext:
        return self.certificates.context(client)


@dataclass(frozen=True)
class Direct:
    """A gunicorn that trusts only ELSEWHERE, talked to directly."""

    port: int
    certificates: Certificates
    gunicorn: Process
    tls: ssl.SSLContext | None


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Stack]:
    """nginx (HTTP and TLS) in front of gunicorn (2 workers), which trusts
    127.0.0.1."""
    nginx_binary()
    require_gunicorn()
    folder = tmp_path_factory.mktemp("stack")
    app_port, http_port, tls_port = free_ports(3)
    instance = instance_with(folder, SETTINGS.format(proxy='"127.0.0.1"'))
    env = app_env(instance, https_port=tls_port, client_ca=certificates.client_ca)
    server_cert, server_key = certificates.files("server")
    config = nginx_config(
        folder / "nginx",
        upstream=app_port,
        http_port=http_port,
        tls_port=tls_port,
        certificate=server_cert,
        key=server_key,
        client_ca=certificates.client_ca,
    )
    with (
        gunicorn(folder / "gunicorn", app_port, env, workers=2) as app_server,
        nginx(folder / "nginx", config, (http_port, tls_port)) as proxy,
    ):
        yield Stack(http_port, tls_port, app_port, certificates, proxy, app_server)


@contextlib.contextmanager
def direct(folder: Path, certificates: Certificates, *, tls: bool) -> Iterator[Direct]:
    """gunicorn (1 worker) trusting only ELSEWHERE, over HTTP or its own TLS."""
    port = free_ports(1)[0]
    instance = instance_with(folder, SETTINGS.format(proxy=f'"{ELSEWHERE}"'))
    env = app_env(
        instance, https_port=UNTRUSTED_HTTPS_PORT, client_ca=certificates.client_ca
    )
    serving = None
    if tls:
        serving = (*certificates.files("server"), certificates.context())
    with gunicorn(folder / "gunicorn", port, env, workers=1, tls=serving) as process:
        yield Direct(port, certificates, process, serving[2] if serving else None)


@pytest.fixture(scope="module")
def untrusted(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Direct]:
    """gunicorn over plain HTTP, trusting only ELSEWHERE."""
    with direct(tmp_path_factory.mktemp("untrusted"), certificates, tls=False) as d:
        yield d


@pytest.fixture(scope="module")
def untrusted_tls(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[Direct]:
    """gunicorn serving HTTPS itself, trusting only ELSEWHERE: its requests
    are HTTPS without any forwarded header, so only the client certificate
    header is left to forge."""
    folder = tmp_path_factory.mktemp("untrusted-tls")
    with direct(folder, certificates, tls=True) as d:
        yield d


def escaped(issued: Issued) -> str:
    """The certificate as nginx's ``$ssl_client_escaped_cert`` has it."""
    return quote(issued.cert_pem().decode("ascii"), safe="")


def problem_detail(reply: Reply) -> str:
    assert reply.header("Content-Type") == "application/problem+json", reply.body
    return str(reply.json()["detail"])


# --- Through nginx -----------------------------------------------------------


def test_https_through_nginx_is_served_not_redirected(stack: Stack) -> None:
    reply = fetch(stack.tls_port, "/account/", tls=stack.tls())
    assert reply.status == 200, reply.body
    assert b"Your account" in reply.body
    assert reply.pid is not None, "answered by nginx, not the app"
    assert reply.header("Location") is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_http_through_nginx_is_redirected_to_the_tls_port(
    stack: Stack, host: str
) -> None:
    reply = fetch(
        stack.http_port,
        "/account/?tab=orders",
        headers={"Host": f"{host}:{stack.http_port}"},
    )
    assert reply.status == 301, reply.body
    location = f"https://{host}:{stack.tls_port}/account/?tab=orders"
    assert reply.header("Location") == location
    assert reply.pid is not None
    # Following the redirect ends at the page: no loop.
    followed = fetch(
        stack.tls_port,
        "/account/?tab=orders",
        tls=stack.tls(),
        headers={"Host": f"{host}:{stack.tls_port}"},
    )
    assert followed.status == 200, followed.body


def test_post_over_http_through_nginx_keeps_its_method(stack: Stack) -> None:
    reply = fetch(
        stack.http_port,
        "/account/login",
        method="POST",
        body=b"user=ann&password=secret",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 308
    assert reply.header("Location") == (
        f"https://127.0.0.1:{stack.tls_port}/account/login"
    )


def test_rest_over_http_through_nginx_is_refused(stack: Stack) -> None:
    reply = fetch(stack.http_port, "/orders/api/orders")
    assert reply.status == 403
    assert reply.header("Location") is None
    assert "HTTPS" in problem_detail(reply)
    assert fetch(stack.tls_port, "/orders/api/orders", tls=stack.tls()).status == 200


def test_hsts_on_https_responses_only(stack: Stack) -> None:
    for path in ("/", "/account/", "/healthz", "/orders/api/orders"):
        reply = fetch(stack.tls_port, path, tls=stack.tls())
        assert reply.status == 200, (path, reply.body)
        assert reply.header("Strict-Transport-Security") == HSTS, path
    # HSTS forces every screen to HTTPS; the exempt health check is served.
    home = fetch(stack.http_port, "/")
    assert home.status == 301
    assert home.header("Strict-Transport-Security") is None
    health = fetch(stack.http_port, "/healthz")
    assert (health.status, health.body) == (200, b"ok\n")
    assert health.header("Strict-Transport-Security") is None


def test_forged_forwarded_headers_through_nginx_count_for_nothing(
    stack: Stack,
) -> None:
    # nginx replaces them with what it saw: plain HTTP, its own host.
    reply = fetch(
        stack.http_port,
        "/account/",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Port": "443",
            "Forwarded": "proto=https;host=evil.example",
        },
    )
    assert reply.status == 301
    assert reply.header("Location") == f"https://127.0.0.1:{stack.tls_port}/account/"
    # And over TLS a client's own "Forwarded: proto=http" does not make the
    # request plain HTTP, redirected to itself.
    loop = fetch(
        stack.tls_port,
        "/account/",
        tls=stack.tls(),
        headers={"Forwarded": "proto=http", "X-Forwarded-Proto": "http"},
    )
    assert loop.status == 200, loop.body


# --- Client certificates through nginx -----------------------------------------


def test_partner_with_a_valid_client_certificate(stack: Stack) -> None:
    reply = fetch(stack.tls_port, PARTNER, tls=stack.tls("partner"))
    assert reply.status == 200, reply.body
    assert reply.json()["partner"] == "stack-partner"


def test_partner_without_a_client_certificate_is_refused(stack: Stack) -> None:
    reply = fetch(stack.tls_port, PARTNER, tls=stack.tls())
    assert reply.status == 403, reply.body
    assert "no client certificate was presented" in problem_detail(reply)


@pytest.mark.parametrize("client", ["expired", "foreign"])
def test_partner_with_a_bad_client_certificate_is_refused(
    stack: Stack, client: str
) -> None:
    # nginx, with "optional", refuses a certificate that does not verify
    # itself (400); were it passed on, the app would refuse it (403).
    reply = fetch(stack.tls_port, PARTNER, tls=stack.tls(client))
    assert reply.status in (400, 403), reply.body
    assert b"stack-" not in reply.body


def test_forged_client_certificate_header_through_nginx(stack: Stack) -> None:
    forged = {CLIENT_CERT_HEADER: escaped(stack.certificates.partner)}
    # nginx replaces the header with the certificate of the handshake: none.
    reply = fetch(stack.tls_port, PARTNER, tls=stack.tls(), headers=forged)
    assert reply.status == 403, reply.body
    assert "no client certificate was presented" in problem_detail(reply)
    cleartext = fetch(stack.http_port, PARTNER, headers=forged)
    assert cleartext.status == 403, cleartext.body


# --- gunicorn, talked to directly ----------------------------------------------


def test_direct_clients_of_the_trusted_server_are_believed(stack: Stack) -> None:
    # From 127.0.0.1 a client is indistinguishable from nginx: what the
    # untrusted server refuses below is served here. A deployment must keep
    # clients from reaching the WSGI server from a trusted address.
    forged = {
        "X-Forwarded-Proto": "https",
        CLIENT_CERT_HEADER: escaped(stack.certificates.partner),
    }
    assert fetch(stack.app_port, "/account/", headers=forged).status == 200
    reply = fetch(stack.app_port, PARTNER, headers=forged)
    assert reply.status == 200, reply.body
    assert reply.json()["partner"] == "stack-partner"


def test_forged_forwarded_headers_from_an_untrusted_address(
    untrusted: Direct,
) -> None:
    reply = fetch(
        untrusted.port,
        "/account/",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Port": "443",
            "Forwarded": "proto=https;host=evil.example",
        },
    )
    assert reply.status == 301, reply.body
    assert reply.pid is not None
    assert reply.header("Location") == (
        f"https://127.0.0.1:{UNTRUSTED_HTTPS_PORT}/account/"
    )
    assert reply.header("Strict-Transport-Security") is None


def test_forged_client_certificate_from_an_untrusted_address(
    untrusted: Direct, untrusted_tls: Direct
) -> None:
    forged = {
        "X-Forwarded-Proto": "https",
        CLIENT_CERT_HEADER: escaped(untrusted.certificates.partner),
    }
    cleartext = fetch(untrusted.port, PARTNER, headers=forged)
    assert cleartext.status == 403, cleartext.body
    assert cleartext.pid is not None
    # Over real TLS (gunicorn's own), only the header is forged.
    reply = fetch(untrusted_tls.port, PARTNER, tls=untrusted_tls.tls, headers=forged)
    assert reply.status == 403, reply.body
    assert reply.pid is not None
    assert "no client certificate was presented" in problem_detail(reply)
    # The same server serves the rest of the app over that TLS.
    assert fetch(untrusted_tls.port, "/account/", tls=untrusted_tls.tls).status == 200
