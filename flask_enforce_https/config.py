"""The ``ENFORCE_HTTPS_*`` config keys: defaults, and validation that names
the key and what is wrong."""

from __future__ import annotations

import os
import re
import typing as t
import weakref
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from . import signals
from .client_certs import ClientCAs
from .errors import ConfigurationError, SettingsError
from .levels import HttpSecurity
from .location import split_host
from .settings import Settings, parse_settings
from .sources import FORMATS, FileSource
from .state import AppState, SettingsSource, StaticSource

_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")

DEFAULTS: dict[str, t.Any] = {
    "ENFORCE_HTTPS_SETTINGS": None,
    "ENFORCE_HTTPS_APPLICATION": None,
    "ENFORCE_HTTPS_DEFAULT_SECURITY": "none",
    "ENFORCE_HTTPS_REDIRECT_CODE": 301,
    "ENFORCE_HTTPS_REDIRECT_CODE_OTHER": 308,
    "ENFORCE_HTTPS_REDIRECT_MAX_AGE": 3600,
    "ENFORCE_HTTPS_PORT": 443,
    "ENFORCE_HTTPS_HOST": None,
    "ENFORCE_HTTPS_RELOAD_INTERVAL": 2,
    "ENFORCE_HTTPS_AUDIT_LOG": None,
    "ENFORCE_HTTPS_CLIENT_CA": None,
    "ENFORCE_HTTPS_CLIENT_CERT_HEADER": None,
    "ENFORCE_HTTPS_CERTIFICATE": None,
    "ENFORCE_HTTPS_CERTIFICATE_KEY": None,
    "ENFORCE_HTTPS_CA_BUNDLE": None,
    "ENFORCE_HTTPS_EXPIRY_WARNING_DAYS": 30,
}


def redirect_code(
    config: Mapping[str, t.Any], key: str, allowed: tuple[int, ...], why: str
) -> int:
    value = config[key]
    if isinstance(value, bool) or value not in allowed:
        raise ConfigurationError(
            key, f"expected one of {', '.join(map(str, allowed))}{why}, got {value!r}"
        )
    return int(value)


#: The longest ``ENFORCE_HTTPS_REDIRECT_MAX_AGE``: a year, as long as
#: ``hsts_max_age`` needs for preload. Longer is the "forever" the key bounds.
MAX_REDIRECT_MAX_AGE = 365 * 24 * 3600


def redirect_max_age(config: Mapping[str, t.Any]) -> int:
    value = config["ENFORCE_HTTPS_REDIRECT_MAX_AGE"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_REDIRECT_MAX_AGE
    ):
        raise ConfigurationError(
            "ENFORCE_HTTPS_REDIRECT_MAX_AGE",
            f"expected a whole number of seconds from 0 to {MAX_REDIRECT_MAX_AGE}"
            f" (a year), got {value!r}",
        )
    return value


def port(config: Mapping[str, t.Any]) -> int:
    value = config["ENFORCE_HTTPS_PORT"]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigurationError(
            "ENFORCE_HTTPS_PORT", f"expected a port from 1 to 65535, got {value!r}"
        )
    return value


def canonical_host(config: Mapping[str, t.Any]) -> str | None:
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


def pinned_hosts(app: Flask, canonical: str | None) -> tuple[str | None, str | None]:
    """Return the redirect host and, with subdomain matching, the domain
    every redirect's host must be in.

    ``SERVER_NAME`` pins the redirect host, as it pins ``url_for``'s, unless
    the app matches subdomains or hosts: then it only bounds the host.

    :param app: The application.
    :param canonical: ``ENFORCE_HTTPS_HOST``, which wins.
    """
    value = app.config.get("SERVER_NAME")
    if not value:
        return canonical, None
    split = split_host(value) if isinstance(value, str) else None
    if split is None:
        raise ConfigurationError(
            "SERVER_NAME",
            f"expected a host name with an optional port, got {value!r}",
        )
    if app.url_map.host_matching:
        return canonical, None
    if app.subdomain_matching:
        return canonical, split[0].strip("[]")
    return canonical or split[0], None


def application(app: Flask) -> str:
    value = app.config["ENFORCE_HTTPS_APPLICATION"]
    if value is None:
        return app.name
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            "ENFORCE_HTTPS_APPLICATION",
            f"expected the application's name in the settings, got {value!r}",
        )
    return value


def reload_interval(config: Mapping[str, t.Any]) -> float:
    value = config["ENFORCE_HTTPS_RELOAD_INTERVAL"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigurationError(
            "ENFORCE_HTTPS_RELOAD_INTERVAL",
            f"expected a number of seconds >= 0, got {value!r}",
        )
    return float(value)


def optional_path(config: Mapping[str, t.Any], key: str) -> Path | None:
    """Return the path in config ``key``, or ``None`` when unset.

    :param config: The app's config.
    :param key: The config key.
    :raises ConfigurationError: The value is not a path.
    """
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigurationError(key, f"expected a file path, got {value!r}")
    return Path(value)


def client_ca(config: Mapping[str, t.Any]) -> ClientCAs | None:
    header = config["ENFORCE_HTTPS_CLIENT_CERT_HEADER"]
    if header is not None and not (
        isinstance(header, str) and _HEADER_NAME.fullmatch(header)
    ):
        raise ConfigurationError(
            "ENFORCE_HTTPS_CLIENT_CERT_HEADER",
            f"expected a header name such as 'X-SSL-Client-Cert', got {header!r}",
        )
    path = optional_path(config, "ENFORCE_HTTPS_CLIENT_CA")
    return None if path is None else ClientCAs(path, header)


def warning_days(config: Mapping[str, t.Any]) -> int:
    value = config["ENFORCE_HTTPS_EXPIRY_WARNING_DAYS"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            "ENFORCE_HTTPS_EXPIRY_WARNING_DAYS",
            f"expected a whole number of days >= 0, got {value!r}",
        )
    return value


def settings_source(app: Flask, interval: float) -> SettingsSource:
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

    # Sent with signals.send: a receiver that raises is logged, so that it
    # neither stops the reload nor escapes HTTPSMiddleware as a raw 500.
    def applied(settings: Settings, changes: list[str]) -> None:
        if (app := sender()) is not None:
            signals.send(
                signals.settings_applied, app, source=str(path), settings=settings
            )

    def rejected(error: SettingsError) -> None:
        if (app := sender()) is not None:
            signals.send(signals.settings_rejected, app, source=str(path), error=error)

    source.applied.append(applied)
    source.rejected.append(rejected)
    return source


def app_state(app: Flask) -> AppState:
    """Validate every ``ENFORCE_HTTPS_*`` key of ``app`` once, and return the
    state the extension keeps for it.

    :param app: The application, its config defaults already set.
    :raises ConfigurationError: A key has a bad value; the error names it.
    :raises SettingsError: The administrator settings are invalid.
    """
    conf = app.config
    host, domain = pinned_hosts(app, canonical_host(conf))
    state = AppState(
        application=application(app),
        default=HttpSecurity.coerce(
            conf["ENFORCE_HTTPS_DEFAULT_SECURITY"], "ENFORCE_HTTPS_DEFAULT_SECURITY"
        ),
        redirect_code=redirect_code(
            conf, "ENFORCE_HTTPS_REDIRECT_CODE", (301, 302, 303, 307, 308), ""
        ),
        redirect_code_other=redirect_code(
            conf,
            "ENFORCE_HTTPS_REDIRECT_CODE_OTHER",
            (307, 308),
            " (301 and 302 make clients turn a POST into a GET and lose its body)",
        ),
        redirect_max_age=redirect_max_age(conf),
        port=port(conf),
        host=host,
        domain=domain,
        source=settings_source(app, reload_interval(conf)),
        app=weakref.ref(app),
        client_ca=client_ca(conf),
    )
    for key in (
        "ENFORCE_HTTPS_AUDIT_LOG",
        "ENFORCE_HTTPS_CERTIFICATE",
        "ENFORCE_HTTPS_CERTIFICATE_KEY",
        "ENFORCE_HTTPS_CA_BUNDLE",
    ):
        optional_path(conf, key)
    warning_days(conf)
    return state
