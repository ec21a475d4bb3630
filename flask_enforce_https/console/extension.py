"""The :class:`Console` extension: mounting the console in an app.

No authorizer, no console: the console changes how a whole environment
is secured, and Flask-Admin's and Flower's open-by-default consoles are
what this refuses to repeat.
"""

from __future__ import annotations

import re

from flask import Flask

from ..declarations import Kind, declare
from ..errors import ConfigurationError, EnforceHTTPSError
from ..levels import HttpSecurity
from ..state import EXTENSION_KEY, AppState
from .blueprint import make_blueprint
from .forgery import exempt_from_flask_wtf
from .roles import Authorize
from .state import CONSOLE_KEY, ConsoleState, UserName, default_user

PREFIX_KEY = "ENFORCE_HTTPS_CONSOLE_URL_PREFIX"
DEFAULT_PREFIX = "/_https"
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


class ConsoleError(EnforceHTTPSError):
    """The console cannot be mounted as asked."""


class Console:
    """A web console for administrators, mounted in an app that uses
    :class:`~flask_enforce_https.EnforceHTTPS`.

    :param app: The application to mount it in now; or call
        :meth:`init_app` later.
    :param authorize: ``authorize(request) -> "editor" | "reader" | None``:
        :func:`~flask_enforce_https.console.basic_auth`, a client
        certificate authorizer, or any callable (one reading Flask-Login's
        ``current_user``, say). Required.
    :param user: ``user(request) -> str | None``: the name the audit trail
        records; by default the HTTP Basic user, else ``REMOTE_USER``.
    :param endpoints: Show the endpoints of the app the console is mounted
        in (the Endpoints and Explain pages, and what a change does to each
        endpoint); ``False`` for a central console
        (:func:`~flask_enforce_https.console.create_console_app`).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        authorize: Authorize | None = None,
        user: UserName | None = None,
        endpoints: bool = True,
    ) -> None:
        self.authorize = authorize
        self.user = user or default_user
        self.endpoints = endpoints
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Mount the console at ``ENFORCE_HTTPS_CONSOLE_URL_PREFIX``.

        :param app: The application; it must use ``EnforceHTTPS`` already.
        :raises ConsoleError: No ``authorize``, no ``EnforceHTTPS``, or the
            console is mounted already.
        :raises ConfigurationError: ``SECRET_KEY`` is not set, or the prefix
            is not a path; the error names the key.
        """
        if self.authorize is None:
            raise ConsoleError(
                "Console(authorize=...) is required: without it anyone could"
                " change how HTTPS is enforced. Pass basic_auth({...}), a"
                " client certificate authorizer, or your own callable"
            )
        state = app.extensions.get(EXTENSION_KEY)
        if not isinstance(state, AppState):
            raise ConsoleError(
                f"app {app.name!r} does not use EnforceHTTPS: call"
                " EnforceHTTPS(app) before Console.init_app(app)"
            )
        if CONSOLE_KEY in app.extensions:
            raise ConsoleError(f"the console is mounted on {app.name!r} already")
        if not app.config.get("SECRET_KEY"):
            raise ConfigurationError(
                "SECRET_KEY",
                "the console signs its forms with it: set a long random value,"
                " the same in every process and kept across restarts",
            )
        app.config.setdefault(PREFIX_KEY, DEFAULT_PREFIX)
        prefix = app.config[PREFIX_KEY]
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ConfigurationError(
                PREFIX_KEY,
                f"expected a path such as '/_https' (no trailing slash), got"
                f" {prefix!r}",
            )
        level = HttpSecurity.coerce(
            getattr(self.authorize, "level", HttpSecurity.TLS), PREFIX_KEY
        )
        if level is HttpSecurity.TLS_CLIENT_CERT and state.client_ca is None:
            raise ConfigurationError(
                "ENFORCE_HTTPS_CLIENT_CA",
                "the console's client certificate authorizer needs the CAs"
                " that issue its users' certificates",
            )
        app.extensions[CONSOLE_KEY] = ConsoleState(
            self.authorize, self.user, prefix, level, self.endpoints
        )
        blueprint = make_blueprint()
        declare(Kind.SCREEN, level)(blueprint)
        app.register_blueprint(blueprint, url_prefix=prefix)
        exempt_from_flask_wtf(app, blueprint)
