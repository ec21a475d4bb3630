"""A central console: the console as an app of its own, over a settings
store that a farm shares, for gunicorn.

It shows and changes the store's settings, the hosts and processes that
read them and which revision each applied, the certificate it is given,
and the history. What a change does to each endpoint is shown by the
console mounted in each application: a central console has no endpoints
of its own to judge.
"""

from __future__ import annotations

import typing as t

from flask import Flask, redirect

from ..extension import EnforceHTTPS
from .extension import Console
from .roles import Authorize
from .state import UserName

#: The central console's application name in the store's heartbeats.
APPLICATION = "enforce-https-console"


def create_console_app(
    settings: str,
    *,
    authorize: Authorize,
    secret_key: str | bytes,
    user: UserName | None = None,
    config: t.Mapping[str, t.Any] | None = None,
) -> Flask:
    """Make a Flask app that serves only the console, for a store.

    ::

        # console.py, served with: gunicorn console:app
        app = create_console_app(
            os.environ["ENFORCE_HTTPS_SETTINGS"],
            authorize=basic_auth({"admin": os.environ["CONSOLE_ADMIN_HASH"]}),
            secret_key=os.environ["SECRET_KEY"],
        )

    :param settings: The store's URL (or a settings file's path).
    :param authorize: See :class:`~flask_enforce_https.console.Console`.
    :param secret_key: The app's ``SECRET_KEY``, the same in every process.
    :param user: See :class:`~flask_enforce_https.console.Console`.
    :param config: More config: ``ENFORCE_HTTPS_CERTIFICATE`` and its key
        and bundle for the Certificates page, ``ENFORCE_HTTPS_HOST``,
        ``ENFORCE_HTTPS_CONSOLE_URL_PREFIX``...
    """
    app = Flask("enforce_https_console")
    app.config.update(
        SECRET_KEY=secret_key,
        ENFORCE_HTTPS_SETTINGS=settings,
        ENFORCE_HTTPS_APPLICATION=APPLICATION,
    )
    app.config.update(config or {})
    EnforceHTTPS(app)
    Console(app, authorize=authorize, user=user, endpoints=False)
    prefix = app.config["ENFORCE_HTTPS_CONSOLE_URL_PREFIX"]

    @app.get("/")
    @EnforceHTTPS.screen("tls")
    def home() -> t.Any:
        return redirect(f"{prefix}/", code=302)

    return app
