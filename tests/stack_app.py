"""WSGI entry of the real-process tests: the example app, for gunicorn.

``gunicorn --pythonpath <repo>,<repo>/tests stack_app:app`` serves the demo's
two applications as :mod:`example_app.serve` does, the storefront at ``/``
and the orders service at ``/orders`` behind werkzeug's
:class:`~werkzeug.middleware.dispatcher.DispatcherMiddleware`, with two
additions for the tests:

- every response says which worker made it, in ``X-Worker-Pid``;
- a trusted proxy may pass the client certificate in a header, as nginx
  does with ``$ssl_client_escaped_cert``, verified against a CA the test
  chooses.

The example app reads its own environment variables (see
:mod:`example_app.config`): ``DEMO_INSTANCE`` (the instance folder, whose
``settings.toml`` is the settings file, ``trusted_proxies`` included),
``HTTPS_PORT`` (where redirects go) and ``DEMO_RELOAD_INTERVAL``. This module
adds two, read when the applications are configured:

===========================  ================================================
``STACK_CLIENT_CA``          the PEM file of the CA of client certificates
                             (``ENFORCE_HTTPS_CLIENT_CA``); default: the
                             instance's ``client-ca.pem``
``STACK_CLIENT_CERT_HEADER`` the header a trusted proxy puts the client
                             certificate in
                             (``ENFORCE_HTTPS_CLIENT_CERT_HEADER``)
===========================  ================================================

The extension's log (settings reloaded and refused) goes to stderr, which
gunicorn leaves to the test's log file, each line with the worker's pid.

The example app has no hook for these two keys, so
:func:`example_app.config.configure` is wrapped before the applications are
imported (they call it while they are built); nothing else about them
changes.
"""

from __future__ import annotations

import logging
import os
import typing as t

from flask import Flask, Response
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from example_app import config

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: The response header that names the worker process.
PID_HEADER = "X-Worker-Pid"

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s [%(process)d] [%(name)s] %(levelname)s: %(message)s",
)

_configure = config.configure


def configure(app: Flask, application: str, instance: config.Instance) -> None:
    """Configure one of the demo's applications as the demo does, then set
    the client certificate keys from ``STACK_CLIENT_CA`` and
    ``STACK_CLIENT_CERT_HEADER``.

    :param app: The application, before ``EnforceHTTPS.init_app``.
    :param application: Its name in the settings file.
    :param instance: The prepared instance folder.
    """
    _configure(app, application, instance)
    client_ca = os.environ.get("STACK_CLIENT_CA")
    if client_ca:
        app.config["ENFORCE_HTTPS_CLIENT_CA"] = client_ca
    app.config["ENFORCE_HTTPS_CLIENT_CERT_HEADER"] = (
        os.environ.get("STACK_CLIENT_CERT_HEADER") or None
    )
    # The partner test_stack issues from the session's client CA (pki.py).
    app.config["DEMO_PARTNERS"] = {
        ("CN=Test Client CA", "CN=stack-partner"): "stack-partner"
    }


config.configure = configure

# Imported only now: building the applications calls configure().
from example_app import orders, storefront  # noqa: E402


def _worker_pid(response: Response) -> Response:
    response.headers[PID_HEADER] = str(os.getpid())
    return response


for _flask_app in (storefront.app, orders.app):
    _flask_app.after_request(_worker_pid)

#: What gunicorn serves.
app: WSGIApplication = DispatcherMiddleware(storefront.app, {"/orders": orders.app})
