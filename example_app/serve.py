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

Ctrl-C (SIGINT) or SIGTERM shuts both servers down; the process exits 0.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shlex
import signal
import ssl
import sys
import threading
import typing as t
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from example_app import config, pki, soap

if t.TYPE_CHECKING:
    from types import FrameType

    from _typeshed.wsgi import WSGIApplication

#: Seconds between checks for shutdown, in the servers' loops.
POLL_INTERVAL = 0.2


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


def https_server(
    host: str, port: int, app: WSGIApplication, context: ssl.SSLContext
) -> BaseWSGIServer:
    """Return a threaded werkzeug server for ``app`` over TLS.

    Given the context, werkzeug would complete each TLS handshake in the
    loop that accepts connections, where one client that connects and says
    nothing (a browser's speculative connection, say) would hold up every
    other. Here the listening socket does not shake hands on accept: each
    connection does, in its own thread, on its first read.

    :param host: The address to listen on.
    :param port: The port.
    :param app: The WSGI application.
    :param context: The TLS context.
    :raises OSError: The address cannot be listened on.
    """
    server = make_server(host, port, app, threaded=True)
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
    return f"""\
flask-enforce-https demo: two applications, one process, one settings file

  storefront  {http}/          {https}/
  orders      {http}/orders/   {https}/orders/

  settings:    {_shown(instance.settings)} (checked every {interval})
  local CA:    {_shown(files.ca)} (for curl --cacert; trust it nowhere else){made}

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

  # SOAP at level none: the WSDL, and GetOrderStatus of order 1, over HTTP too.
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


def _cannot_listen(host: str, port: int, variable: str, error: OSError) -> int:
    print(
        f"error: cannot listen on {host}:{port} ({error.strerror or error});"
        f" set {variable} to another port",
        file=sys.stderr,
    )
    return 1


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
    instance = config.prepare()
    # Imported now, so that `instance.created` above says what this run made.
    from example_app import orders, storefront

    app = DispatcherMiddleware(storefront.app, {"/orders": orders.app})
    context = tls_context(instance.files)
    try:
        http = make_server(host, http_port, app, threaded=True)
    except OSError as e:
        return _cannot_listen(host, http_port, "HTTP_PORT", e)
    try:
        https = https_server(host, https_port, app, context)
    except OSError as e:
        http.server_close()
        return _cannot_listen(host, https_port, "HTTPS_PORT", e)
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
