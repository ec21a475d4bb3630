"""Serve the demo for real: ``python -m example_app``, or ``make demo``.

Both applications run in one process, behind werkzeug's
:class:`~werkzeug.middleware.dispatcher.DispatcherMiddleware`: the
storefront at ``/`` and the orders service at ``/orders``. Two werkzeug
servers, each in its own thread, serve them: plain HTTP on ``HTTP_PORT``
(8080) and HTTPS on ``HTTPS_PORT`` (8443), with the certificate made on
first start (see :mod:`example_app.pki`). The HTTPS server asks each client
for a certificate without insisting on one (``CERT_OPTIONAL``); werkzeug
puts the one presented in ``SSL_CLIENT_CERT``, where the extension verifies
it for the partner endpoint.

Both ports are bound before anything else is done, so that a port in use
stops the demo at once with one line naming the variable to change; the
orders service starts with one order, the one the SOAP example of the
banner asks about.

Ctrl-C (SIGINT) or SIGTERM shuts both servers down; the process exits 0.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import shlex
import signal
import socket
import ssl
import sys
import threading
import typing as t
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import (
    LISTEN_QUEUE,
    BaseWSGIServer,
    get_sockaddr,
    make_server,
    select_address_family,
)

from example_app import config, pki, soap

if t.TYPE_CHECKING:
    from types import FrameType

    from _typeshed.wsgi import WSGIApplication

#: Seconds between checks for shutdown, in the servers' loops.
POLL_INTERVAL = 0.2
#: The item and quantity of order 1, which the demo starts with: the
#: banner's SOAP and REST examples ask about it.
FIRST_ORDER = ("teapot", 2)


class CannotListen(Exception):
    """A port cannot be listened on: in use, or the address is not here.

    :param host: The address.
    :param port: The port.
    :param variable: The environment variable that sets the port.
    :param error: Why.
    """

    def __init__(self, host: str, port: int, variable: str, error: OSError) -> None:
        where = f"{_url_host(host)}:{port}"
        other = f"set {variable} to another port, e.g. make demo {variable}="
        if error.errno == errno.EADDRINUSE:
            message = (
                f"cannot listen on {where}: the port is in use, by another"
                f" program or another demo; stop it, or {other}"
                f"{_suggested_port(port)}"
            )
        elif error.errno == errno.EACCES:
            message = (
                f"cannot listen on {where}: ports below 1024 need privileges;"
                f" {other}{_suggested_port(port)}"
            )
        else:
            message = (
                f"cannot listen on {where} ({error.strerror or error});"
                " set HOST to an address of this machine, e.g. 127.0.0.1"
            )
        super().__init__(message)


def _suggested_port(port: int) -> int:
    if port < 1024:
        return port + 8000
    return port + 1000 if port + 1000 < 65536 else port - 1000


def listen(host: str, port: int, variable: str) -> socket.socket:
    """Return a socket listening on ``host:port``, bound as werkzeug's server
    binds one.

    Werkzeug's server, left to bind the port itself, prints its own advice
    and exits the process when it cannot; given the socket, it serves it.

    :param host: The address.
    :param port: The port.
    :param variable: The environment variable that sets the port, for the
        error.
    :raises CannotListen: The port is in use, or the address is not here.
    """
    try:
        family = select_address_family(host, port)
        address = get_sockaddr(host, port, family)
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as e:
        raise CannotListen(host, port, variable, e) from None
    try:
        # As werkzeug's server does: a port left in TIME_WAIT by the last
        # run can be bound again at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_QUEUE)
    except OSError as e:
        sock.close()
        raise CannotListen(host, port, variable, e) from None
    return sock


def tls_context(files: pki.Files) -> ssl.SSLContext:
    """Return the HTTPS server's TLS context.

    :param files: The demo's certificates.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    # Ask for a client certificate but accept connections without one: only
    # the partner endpoint needs it, and the extension refuses requests to it
    # that come without a valid one. One that is presented must verify here.
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=files.client_ca)
    return context


def http_server(host: str, sock: socket.socket, app: WSGIApplication) -> BaseWSGIServer:
    """Return a threaded werkzeug server for ``app`` on a listening socket.

    :param host: The address ``sock`` listens on.
    :param sock: The socket, from :func:`listen`; the server serves a copy
        of it, so it can be closed.
    :param app: The WSGI application.
    """
    port = sock.getsockname()[1]
    return make_server(host, port, app, threaded=True, fd=sock.fileno())


def https_server(
    host: str, sock: socket.socket, app: WSGIApplication, context: ssl.SSLContext
) -> BaseWSGIServer:
    """Return a threaded werkzeug server for ``app`` over TLS.

    Given the context, werkzeug would complete each TLS handshake in the
    loop that accepts connections, where one client that connects and says
    nothing (a browser's speculative connection, say) would hold up every
    other. Here the listening socket does not shake hands on accept: each
    connection does, in its own thread, on its first read.

    :param host: The address ``sock`` listens on.
    :param sock: The socket, as for :func:`http_server`.
    :param app: The WSGI application.
    :param context: The TLS context.
    """
    server = http_server(host, sock, app)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    # Werkzeug reads it: the URL scheme is https, and a failed handshake is
    # logged, not raised.
    server.ssl_context = context
    return server


def _shown(path: Path) -> str:
    """A path as a command to type here would use it: relative when under
    the current folder."""
    try:
        shown = str(path.relative_to(Path.cwd()))
    except ValueError:
        shown = str(path)
    return shlex.quote(shown)


def _url_host(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:  # listening everywhere: loopback works
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host


def _flask_command() -> str:
    """How to run ``flask`` with this interpreter's environment, and the
    variables it must share with the demo."""
    script = Path(sys.executable).parent / "flask"
    command = (
        _shown(script)
        if script.is_file()
        else f"{_shown(Path(sys.executable))} -m flask"
    )
    shared = ("DEMO_INSTANCE", "HTTPS_PORT", "DEMO_RELOAD_INTERVAL")
    prefix = [f"{n}={shlex.quote(os.environ[n])}" for n in shared if os.environ.get(n)]
    return " ".join([*prefix, command])


def banner(
    instance: config.Instance, host: str, http_port: int, https_port: int
) -> str:
    """Return what the demo prints once it listens: URLs and things to try.

    :param instance: The prepared instance folder.
    :param host: The address the servers listen on.
    :param http_port: The plain-HTTP port.
    :param https_port: The HTTPS port.
    """
    name = _url_host(host)
    http = f"http://{name}:{http_port}"
    https = f"https://{name}:{https_port}"
    files = instance.files
    cacert = f"--cacert {_shown(files.ca)}"
    client = f"--cert {_shown(files.partner_cert)} --key {_shown(files.partner_key)}"
    flask = _flask_command()
    storefront = f"{flask} --app example_app.storefront https"
    orders = f"{flask} --app example_app.orders https"
    interval = f"{config.reload_interval():g} s"
    order = shlex.quote('{"item": "teapot", "quantity": 2}')
    envelope = shlex.quote(
        "".join(
            line.strip() for line in soap.get_order_status_request(1).splitlines()[1:]
        )
    )
    soap_headers = (
        "-H 'Content-Type: text/xml; charset=utf-8'"
        f" -H 'SOAPAction: \"{soap.SOAP_ACTION}\"'"
    )
    made = "".join(f"\n  made now:    {what}" for what in instance.created)
    login = (
        f"user {config.CONSOLE_USER}, password {instance.console_password}"
        f" (kept in {_shown(instance.folder / 'console-password')})"
    )
    return f"""\
flask-enforce-https demo: two applications, one process, one settings file

  storefront  {http}/          {https}/
  orders      {http}/orders/   {https}/orders/
  console     {https}/_https/

  settings:    {_shown(instance.settings)} (checked every {interval})
  local CA:    {_shown(files.ca)} (for curl --cacert; trust it nowhere else)
  console:     {login}{made}

Try it, from another terminal in this folder:

  # A web flow declared tls: plain HTTP is redirected (301), HTTPS is served.
  curl -i {http}/account/
  curl -i {cacert} {https}/account/

  # The login form's POST over plain HTTP: 308 keeps the method and body.
  curl -i -d user=ann -d password=secret {http}/account/login

  # REST at tls: plain HTTP is refused with 403 problem+json, never redirected.
  curl -i -X POST {http}/orders/api/orders
  curl -i {cacert} -H 'Content-Type: application/json' -d {order} \\
      {https}/orders/api/orders
  curl -i {cacert} {https}/orders/api/orders/1

  # SOAP at level none: the WSDL, and GetOrderStatus of order 1 (the demo
  # starts with it), over HTTP too.
  curl -i {shlex.quote(f"{http}/orders/soap?wsdl")}
  curl -i {soap_headers} \\
      -d {envelope} \\
      {http}/orders/soap

  # The partner API needs a client certificate: 403 without, 200 with.
  curl -i {cacert} {https}/orders/partner/orders
  curl -i {cacert} {client} \\
      {https}/orders/partner/orders

  # Exempt in the settings file: served as it comes.
  curl -i {http}/healthz

Then be the administrator: change what is enforced while the demo runs.

  {storefront} show
  {storefront} explain {http}/
  {storefront} set force_https_screens=true --application storefront
  curl -i {http}/            # 301 within {interval}, no restart
  curl -i {http}/healthz     # still 200: exempt
  {orders} set force_https_integrations=true --application orders
  #   ...and the SOAP request above gets 403 and a SOAP Fault
  {storefront} history
  {storefront} unset force_https_screens --application storefront
  {storefront} check --url {https} --hostname localhost --hostname 127.0.0.1

Ctrl-C stops the demo.
"""


def _serve(server: BaseWSGIServer, name: str) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_INTERVAL},
        name=f"demo-{name}",
        daemon=True,
    )
    thread.start()
    return thread


def seed() -> None:
    """Give the orders service its first order, :data:`FIRST_ORDER`."""
    from example_app import orders

    with orders.app.app_context():
        orders.book().add(*FIRST_ORDER)


def main() -> int:
    """Serve the demo until SIGINT or SIGTERM; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Before anything listens, so that a signal always stops cleanly.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        host = config.host()
        http_port, https_port = config.http_port(), config.https_port()
        config.reload_interval()
    except config.DemoConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # First, so that a port in use stops the demo before it makes anything.
    try:
        with contextlib.ExitStack() as stack:
            http_socket = stack.enter_context(listen(host, http_port, "HTTP_PORT"))
            https_socket = stack.enter_context(listen(host, https_port, "HTTPS_PORT"))
            listening = stack.pop_all()
    except CannotListen as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    with listening:
        try:
            instance = config.prepare()
        except config.DemoConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        # Imported now, so that `instance.created` above says what this run made.
        from example_app import orders, storefront

        seed()
        app = DispatcherMiddleware(storefront.app, {"/orders": orders.app})
        http = http_server(host, http_socket, app)
        https = https_server(host, https_socket, app, tls_context(instance.files))
    servers = [http, https]
    threads = [_serve(http, "http"), _serve(https, "https")]
    print(banner(instance, host, http_port, https_port), flush=True)
    while not stop.is_set():
        stop.wait(0.5)
    print("Stopping...", flush=True)
    for server in servers:
        server.shutdown()
    for thread in threads:
        thread.join()
    for server in servers:
        server.server_close()
    print("Stopped.", flush=True)
    return 0
