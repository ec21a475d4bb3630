"""The Flask extension object: registration and config validation."""

from __future__ import annotations

import os
import typing as t
import weakref
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from . import enforce, signals
from .cli import https_cli
from .declarations import Kind, declare
from .errors import ConfigurationError, EnforceHTTPSError, SettingsError
from .levels import HttpSecurity
from .location import split_host
from .settings import Settings, parse_settings
from .sources import FORMATS, FileSource
from .state import AppState, SettingsSource, StaticSource

if t.TYPE_CHECKING:
    from .declarations import Decorator

EXTENSION_KEY = "enforce_https"

DEFAULTS: dict[str, t.Any] = {
    "ENFORCE_HTTPS_SETTINGS": None,
    "ENFORCE_HTTPS_APPLICATION": None,
    "ENFORCE_HTTPS_DEFAULT_SECURITY": "none",
    "ENFORCE_HTTPS_REDIRECT_CODE": 301,
    "ENFORCE_HTTPS_REDIRECT_CODE_OTHER": 308,
    "ENFORCE_HTTPS_PORT": 443,
    "ENFORCE_HTTPS_HOST": None,
    "ENFORCE_HTTPS_RELOAD_INTERVAL": 2,
    "ENFORCE_HTTPS_AUDIT_LOG": None,
}


def _redirect_code(
    config: Mapping[str, t.Any], key: str, allowed: tuple[int, ...], why: str
) -> int:
    value = config[key]
    if isinstance(value, bool) or value not in allowed:
        raise ConfigurationError(
            key, f"expected one of {', '.join(map(str, allowed))}{why}, got {value!r}"
        )
    return int(value)


def _port(config: Mapping[str, t.Any]) -> int:
    value = config["ENFORCE_HTTPS_PORT"]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigurationError(
            "ENFORCE_HTTPS_PORT", f"expected a port from 1 to 65535, got {value!r}"
        )
    return value


def _host(config: Mapping[str, t.Any]) -> str | None:
    value = config["ENFORCE_HTTPS_HOST"]
    if value is None:
        return None
    if isinstance(value, str) and value.count(":") > 1 and not value.startswith("["):
        value = f"[{value}]"  # a bare IPv6 literal
    split = split_host(value) if isinstance(value, str) else None
    if split is None or split[1] is not None:
        raise ConfigurationError(
            "ENFORCE_HTTPS_HOST",
            "expected a host name or IP address without scheme, port or path"
            f" (set ENFORCE_HTTPS_PORT for the port), got {value!r}",
        )
    return split[0]


def _application(app: Flask) -> str:
    value = app.config["ENFORCE_HTTPS_APPLICATION"]
    if value is None:
        return app.name
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            "ENFORCE_HTTPS_APPLICATION",
            f"expected the application's name in the settings, got {value!r}",
        )
    return value


def _interval(config: Mapping[str, t.Any]) -> float:
    value = config["ENFORCE_HTTPS_RELOAD_INTERVAL"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigurationError(
            "ENFORCE_HTTPS_RELOAD_INTERVAL",
            f"expected a number of seconds >= 0, got {value!r}",
        )
    return float(value)


def _audit_log(config: Mapping[str, t.Any]) -> None:
    value = config["ENFORCE_HTTPS_AUDIT_LOG"]
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(
            "ENFORCE_HTTPS_AUDIT_LOG", f"expected a file path, got {value!r}"
        )


def _source(app: Flask, interval: float) -> SettingsSource:
    key = "ENFORCE_HTTPS_SETTINGS"
    value = app.config[key]
    if value is None:
        value = os.environ.get(key) or {}
    if isinstance(value, Mapping):
        return StaticSource(parse_settings(value))
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(
            key,
            "expected the path of a .toml or .json file, or a mapping of"
            f" settings, got {type(value).__name__}",
        )
    path = Path(value).absolute()
    if path.suffix not in FORMATS:
        raise ConfigurationError(
            key, f"expected a .toml or .json file, got {str(path)!r}"
        )
    source = FileSource(path, interval)
    # A weak reference: the app owns the source, not the other way round.
    sender = weakref.ref(app)

    def applied(settings: Settings, changes: list[str]) -> None:
        if (app := sender()) is not None:
            signals.settings_applied.send(app, source=str(path), settings=settings)

    def rejected(error: SettingsError) -> None:
        if (app := sender()) is not None:
            signals.settings_rejected.send(app, source=str(path), error=error)

    source.applied.append(applied)
    source.rejected.append(rejected)
    return source


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
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        config = app.config
        state = AppState(
            extension=self,
            application=_application(app),
            default=HttpSecurity.coerce(
                config["ENFORCE_HTTPS_DEFAULT_SECURITY"],
                "ENFORCE_HTTPS_DEFAULT_SECURITY",
            ),
            redirect_code=_redirect_code(
                config, "ENFORCE_HTTPS_REDIRECT_CODE", (301, 302, 303, 307, 308), ""
            ),
            redirect_code_other=_redirect_code(
                config,
                "ENFORCE_HTTPS_REDIRECT_CODE_OTHER",
                (307, 308),
                " (301 and 302 make clients turn a POST into a GET and lose its body)",
            ),
            port=_port(config),
            host=_host(config),
            source=_source(app, _interval(config)),
        )
        _audit_log(config)
        state.snapshot()  # fail now, not on the first request
        app.extensions[EXTENSION_KEY] = state
        # First, so that no other hook (a login redirect, say) answers a
        # plain-HTTP request before it is upgraded or refused.
        app.before_request_funcs.setdefault(None, []).insert(
            0, enforce.before_request(state)
        )
        app.after_request(enforce.after_request(state))
        app.cli.add_command(https_cli)

    @staticmethod
    def screen(level: HttpSecurity | str | None = None) -> Decorator:
        """Declare a screen (an HTML view), or the default of a web flow.

        Works above or below ``@app.route`` and returns the function
        unchanged; applied to a :class:`~flask.Blueprint`, it sets the
        default of every view in it (a view's own declaration wins).

        :param level: The design-time level; ``None`` inherits it from the
            blueprint, else ``ENFORCE_HTTPS_DEFAULT_SECURITY``.
        """
        return declare(Kind.SCREEN, level)

    @staticmethod
    def rest(level: HttpSecurity | str = HttpSecurity.TLS) -> Decorator:
        """Declare an exposed REST endpoint (TLS unless said otherwise).

        Plain-HTTP requests to it are refused with 403
        ``application/problem+json``, never redirected.

        :param level: The design-time level.
        """
        return declare(Kind.REST, level)

    @staticmethod
    def soap(level: HttpSecurity | str = HttpSecurity.NONE) -> Decorator:
        """Declare an exposed SOAP endpoint.

        Plain-HTTP requests to it, when it needs TLS, are refused with 403
        and a SOAP Fault in the request's SOAP version.

        :param level: The design-time level.
        """
        return declare(Kind.SOAP, level)
