"""The Flask extension object: registration and config validation."""

from __future__ import annotations

import datetime
import logging
import typing as t

from flask import Flask

from . import config, enforce
from .checks import app_hosts, certificate_findings
from .cli import https_cli
from .config import Config
from .declarations import Kind, declare
from .errors import EnforceHTTPSError
from .levels import HttpSecurity, Level
from .middleware import HTTPSMiddleware
from .state import EXTENSION_KEY, AppState

if t.TYPE_CHECKING:
    from .declarations import Decorator

logger = logging.getLogger("flask_enforce_https")


def _log_certificate_problems(app: Flask, conf: Config) -> None:
    # Logged, not raised: refusing to start would take HTTPS down with it.
    if conf.certificate is None:
        return
    findings = certificate_findings(
        conf.certificate,
        conf.certificate_key,
        conf.ca_bundle,
        app_hosts(app),
        datetime.datetime.now(datetime.timezone.utc),
        conf.expiry_warning_days,
    )
    for finding in findings:
        if finding.severity != "info":
            log = logger.error if finding.severity == "error" else logger.warning
            log("%s [%s] %s", finding.message, finding.id, finding.hint)


class EnforceHTTPS:
    """Enforce the HTTPS security of a Flask application.

    Developers declare each view's kind and level with :meth:`screen`,
    :meth:`rest` and :meth:`soap`; administrators tighten them with the
    settings in ``ENFORCE_HTTPS_SETTINGS``. One instance can serve several
    applications; each keeps its own state in
    ``app.extensions["enforce_https"]``.

    :param app: The application to register with now; or call
        :meth:`init_app` later.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register the extension with ``app`` and validate its config.

        :param app: The application.
        :raises ConfigurationError: A config key has a bad value; the
            error names the key.
        :raises SettingsError: The administrator settings are invalid.
        :raises EnforceHTTPSError: The extension is already registered.
        """
        if EXTENSION_KEY in app.extensions:
            raise EnforceHTTPSError(
                f"EnforceHTTPS is already registered on app {app.name!r};"
                " call init_app once per application."
            )
        for key, value in config.DEFAULTS.items():
            app.config.setdefault(key, value)
        state = AppState.create(app)
        # Fail now, not on the first request; and start nothing (a store's
        # poller) in a process that may fork its workers after this.
        state.prepare()
        state.scan(app)
        app.extensions[EXTENSION_KEY] = state
        # Before every preprocessor and hook, so that no code of the app's
        # (a login redirect, say) sees a request that is not served.
        enforce.install(app, state)
        app.wsgi_app = HTTPSMiddleware(app.wsgi_app, state)  # type: ignore[method-assign]
        app.cli.add_command(https_cli)
        _log_certificate_problems(app, state.config)

    @staticmethod
    def screen(level: Level | None = None) -> Decorator:
        """Declare a screen (an HTML view), or the default of a web flow.

        Works above or below ``@app.route`` and returns the function
        unchanged; applied to a :class:`~flask.Blueprint`, it sets the
        default of every view in it (a view's own declaration wins).

        :param level: The design-time level; ``None`` inherits it from the
            blueprint, else ``ENFORCE_HTTPS_DEFAULT_SECURITY``.
        """
        return declare(Kind.SCREEN, level)

    @staticmethod
    def rest(level: Level = HttpSecurity.TLS) -> Decorator:
        """Declare an exposed REST endpoint (TLS unless said otherwise).

        Plain-HTTP requests to it are refused with 403
        ``application/problem+json``, never redirected.

        :param level: The design-time level.
        """
        return declare(Kind.REST, level)

    @staticmethod
    def soap(level: Level = HttpSecurity.NONE) -> Decorator:
        """Declare an exposed SOAP endpoint.

        Plain-HTTP requests to it, when it needs TLS, are refused with 403
        and a SOAP Fault in the request's SOAP version.

        :param level: The design-time level.
        """
        return declare(Kind.SOAP, level)
