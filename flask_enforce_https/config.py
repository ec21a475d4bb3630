"""The ``ENFORCE_HTTPS_*`` config keys: defaults, and validation that names
the key and what is wrong."""

from __future__ import annotations

import os
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from .errors import ConfigurationError
from .levels import HttpSecurity
from .location import split_host

#: The settings cache's file name in the instance folder, by default.
CACHE_NAME = "enforce_https_settings_cache.json"
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
    "ENFORCE_HTTPS_SETTINGS_CACHE": None,
    "ENFORCE_HTTPS_STORE_LISTEN": True,
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


def flag(config: Mapping[str, t.Any], key: str) -> bool:
    """Return the boolean in config ``key``.

    :raises ConfigurationError: It is not ``True`` or ``False``.
    """
    value = config[key]
    if not isinstance(value, bool):
        raise ConfigurationError(key, f"expected True or False, got {value!r}")
    return value


def client_cert_header(config: Mapping[str, t.Any]) -> str | None:
    header = config["ENFORCE_HTTPS_CLIENT_CERT_HEADER"]
    if header is not None and not (
        isinstance(header, str) and _HEADER_NAME.fullmatch(header)
    ):
        raise ConfigurationError(
            "ENFORCE_HTTPS_CLIENT_CERT_HEADER",
            f"expected a header name such as 'X-SSL-Client-Cert', got {header!r}",
        )
    return header


def warning_days(config: Mapping[str, t.Any]) -> int:
    value = config["ENFORCE_HTTPS_EXPIRY_WARNING_DAYS"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            "ENFORCE_HTTPS_EXPIRY_WARNING_DAYS",
            f"expected a whole number of days >= 0, got {value!r}",
        )
    return value


@dataclass(frozen=True)
class Config:
    """The ``ENFORCE_HTTPS_*`` keys of one application, validated once at
    :meth:`~flask_enforce_https.EnforceHTTPS.init_app`.

    :param application: The application's name in the settings.
    :param default: ``ENFORCE_HTTPS_DEFAULT_SECURITY``.
    :param redirect_code: For GET and HEAD.
    :param redirect_code_other: For other methods.
    :param redirect_max_age: Seconds clients may cache a redirect.
    :param port: The HTTPS port redirects go to.
    :param host: The host redirects go to: ``ENFORCE_HTTPS_HOST``, else
        ``SERVER_NAME`` when it pins the app's host; ``None`` to take the
        request's.
    :param domain: With ``subdomain_matching``, ``SERVER_NAME``'s host: a
        redirect's host must be it or one of its subdomains.
    :param reload_interval: Seconds between checks of a settings file.
    :param audit_log: Where ``flask https set`` logs changes, when set.
    :param settings_cache: Where each process keeps the last good settings
        of a store: ``ENFORCE_HTTPS_SETTINGS_CACHE``, else a file in the
        app's instance folder.
    :param store_listen: Whether a process listens for a PostgreSQL store's
        notifications, besides polling.
    :param client_ca: The PEM bundle of the client CAs, when set.
    :param client_cert_header: The header a trusted proxy passes a client
        certificate in, when set.
    :param certificate: The server certificate ``check`` checks, when set.
    :param certificate_key: Its private key, when set.
    :param ca_bundle: The roots its chain is checked against, when set.
    :param expiry_warning_days: Warn when the certificate expires sooner.
    """

    application: str
    default: HttpSecurity
    redirect_code: int
    redirect_code_other: int
    redirect_max_age: int
    port: int
    host: str | None
    domain: str | None
    reload_interval: float
    audit_log: Path | None
    settings_cache: Path
    store_listen: bool
    client_ca: Path | None
    client_cert_header: str | None
    certificate: Path | None
    certificate_key: Path | None
    ca_bundle: Path | None
    expiry_warning_days: int


def load(app: Flask) -> Config:
    """Validate every ``ENFORCE_HTTPS_*`` key of ``app`` (its defaults
    already set) into a :class:`Config`.

    :param app: The application.
    :raises ConfigurationError: A key has a bad value; the error names it.
    """
    conf = app.config
    host, domain = pinned_hosts(app, canonical_host(conf))
    return Config(
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
        reload_interval=reload_interval(conf),
        audit_log=optional_path(conf, "ENFORCE_HTTPS_AUDIT_LOG"),
        settings_cache=(
            optional_path(conf, "ENFORCE_HTTPS_SETTINGS_CACHE")
            or Path(app.instance_path, CACHE_NAME)
        ).absolute(),
        store_listen=flag(conf, "ENFORCE_HTTPS_STORE_LISTEN"),
        client_ca=optional_path(conf, "ENFORCE_HTTPS_CLIENT_CA"),
        client_cert_header=client_cert_header(conf),
        certificate=optional_path(conf, "ENFORCE_HTTPS_CERTIFICATE"),
        certificate_key=optional_path(conf, "ENFORCE_HTTPS_CERTIFICATE_KEY"),
        ca_bundle=optional_path(conf, "ENFORCE_HTTPS_CA_BUNDLE"),
        expiry_warning_days=warning_days(conf),
    )
