"""Administrator settings: the schema, its validation, and its sources.

One schema serves every source. ``[environment]`` applies to every
application that shares the source; ``[applications.<name>]`` to one.
Validation is all-or-nothing: a source that fails is never half-applied.
"""

from __future__ import annotations

import ipaddress
import json
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

from .errors import SettingsError

Network: t.TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Finds the line of a key, given as its parts, for error messages.
Locator = t.Callable[[tuple[str, ...]], "int | None"]

DEFAULT_EXCLUDED_HOSTS = ("localhost", "127.0.0.1", "::1")
_PATH = re.compile(r"/[\x21-\x7e]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def dotted_key(parts: t.Iterable[object]) -> str:
    """Write a key as TOML would, quoting and escaping the parts that need it.

    Keys come from the file: a part with a dot, a space, a newline or a
    control character is written as a JSON string, so that it can neither
    be mistaken for two parts nor forge a line in a log.

    :param parts: The key's parts, such as ``("applications", "shop.web")``.
    """
    return ".".join(
        p if _BARE_KEY.fullmatch(p) else json.dumps(p)
        for p in (str(part) for part in parts)
    )


@dataclass(frozen=True)
class ApplicationSettings:
    """Settings an administrator may set for one application."""

    force_https_screens: bool = False
    force_https_integrations: bool = False
    secure_cookies: bool = False
    exempt_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentSettings(ApplicationSettings):
    """Settings for the whole environment: every application sharing them."""

    hsts: bool = False
    hsts_max_age: int = 31536000
    hsts_include_subdomains: bool = False
    hsts_preload: bool = False
    hsts_excluded_hosts: tuple[str, ...] = DEFAULT_EXCLUDED_HOSTS
    trusted_proxies: tuple[Network, ...] = ()


@dataclass(frozen=True)
class Settings:
    """One immutable, validated snapshot of the administrator settings.

    :param environment: Settings for every application.
    :param applications: Settings by application name.
    """

    environment: EnvironmentSettings = field(default_factory=EnvironmentSettings)
    applications: Mapping[str, ApplicationSettings] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def application(self, name: str) -> ApplicationSettings:
        """Return the settings of application ``name`` (defaults if unset)."""
        return self.applications.get(name) or ApplicationSettings()


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _max_age(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number of seconds >= 0, got {value!r}")
    return value


def _strings(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list of strings, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"expected a list of strings, got item {item!r}")
    return list(value)


def normalise_host(host: str) -> str:
    """Write a host name or IP address the one way HSTS exclusions compare.

    Lowercase, without the trailing dot of a fully qualified name, IPv6
    without brackets and compressed (``[0:0:0:0:0:0:0:1]`` is ``::1``).

    :param host: A host name or IP address, without a port.
    """
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            return host
    return host.removesuffix(".")


def _hosts(value: object) -> tuple[str, ...]:
    hosts = []
    for item in _strings(value):
        text = item.strip()
        if text.startswith("["):
            literal, _, rest = text[1:].partition("]")
            try:
                ipaddress.IPv6Address(literal)
            except ValueError:
                raise ValueError(
                    f"expected an IPv6 address in brackets, got {item!r}"
                ) from None
            if rest:
                raise ValueError(
                    "expected host names or IP addresses without a port"
                    f" (HSTS applies to a host on every port), got {item!r}"
                )
            text = f"[{literal}]"
        elif ":" in text:
            try:
                ipaddress.IPv6Address(text)
            except ValueError:
                raise ValueError(
                    "expected host names or IP addresses without a port"
                    f" (HSTS applies to a host on every port), got {item!r}"
                ) from None
        host = normalise_host(text)
        if (
            not host
            or host.startswith(".")
            or any(c in host for c in " /\\@?#[]")
            or not host.isprintable()
        ):
            raise ValueError(f"expected host names or IP addresses, got {item!r}")
        hosts.append(host)
    return tuple(hosts)


def _networks(value: object) -> tuple[Network, ...]:
    networks = []
    for item in _strings(value):
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError as e:
            raise ValueError(
                f"expected IP addresses or CIDR networks such as 10.0.0.0/8,"
                f" got {item!r} ({e})"
            ) from None
    return tuple(networks)


def _paths(value: object) -> tuple[str, ...]:
    paths = _strings(value)
    for path in paths:
        if not _PATH.fullmatch(path):
            raise ValueError(
                "expected paths starting with '/' without spaces or control"
                f" characters (end one with '/' to exempt a prefix), got {path!r}"
            )
        if path == "/":
            # As a prefix, "/" would exempt every path of every application
            # reading the settings: enforcement off, by one character.
            raise ValueError(
                "'/' would exempt every path; list the exact paths to exempt,"
                " such as '/healthz', or a narrower prefix ending in '/'"
            )
    return tuple(paths)


_CHECKS: dict[str, t.Callable[[object], object]] = {
    "force_https_screens": _bool,
    "force_https_integrations": _bool,
    "secure_cookies": _bool,
    "exempt_paths": _paths,
    "hsts": _bool,
    "hsts_max_age": _max_age,
    "hsts_include_subdomains": _bool,
    "hsts_preload": _bool,
    "hsts_excluded_hosts": _hosts,
    "trusted_proxies": _networks,
}
APPLICATION_KEYS = frozenset(f.name for f in fields(ApplicationSettings))
ENVIRONMENT_KEYS = frozenset(f.name for f in fields(EnvironmentSettings))


def check_value(key: str, value: object) -> object:
    """Validate and normalise one setting's value.

    :param key: The setting's name, without its section.
    :param value: The value, as TOML or JSON would give it.
    :raises ValueError: The value is wrong; the message says why.
    """
    return _CHECKS[key](value)


def _section(
    data: object,
    where: tuple[str, ...],
    allowed: frozenset[str],
    source: str,
    locate: Locator,
) -> dict[str, t.Any]:
    if not isinstance(data, Mapping):
        raise SettingsError(
            source,
            dotted_key(where),
            f"expected a table of settings, got {data!r}",
            locate(where),
        )
    values: dict[str, t.Any] = {}
    for key, value in data.items():
        path = (*where, key)
        if key not in allowed:
            if key in ENVIRONMENT_KEYS:
                problem = "only the environment can set this, not one application"
            else:
                known = ", ".join(sorted(allowed))
                problem = f"unknown setting; expected one of {known}"
            raise SettingsError(source, dotted_key(path), problem, locate(path))
        try:
            values[key] = check_value(key, value)
        except ValueError as e:
            raise SettingsError(
                source, dotted_key(path), str(e), locate(path)
            ) from None
    return values


def _nowhere(key: tuple[str, ...]) -> int | None:
    return None


def parse_settings(
    data: object, source: str = "ENFORCE_HTTPS_SETTINGS", locate: Locator = _nowhere
) -> Settings:
    """Validate ``data`` against the schema and return a :class:`Settings`.

    :param data: A mapping with optional ``environment`` and
        ``applications`` tables.
    :param source: Where ``data`` came from, for error messages.
    :param locate: Returns the line of a key, given as its parts, for error
        messages.
    :raises SettingsError: ``data`` does not fit the schema; the error
        names the source, the dotted key and what is wrong.
    """
    if not isinstance(data, Mapping):
        raise SettingsError(source, "", f"expected a table of settings, got {data!r}")
    for key in data:
        if key not in ("environment", "applications"):
            raise SettingsError(
                source,
                dotted_key([key]),
                "unknown section; expected 'environment' or 'applications'",
                locate((str(key),)),
            )
    environment = EnvironmentSettings(
        **_section(
            data.get("environment", {}),
            ("environment",),
            ENVIRONMENT_KEYS,
            source,
            locate,
        )
    )
    tables = data.get("applications", {})
    if not isinstance(tables, Mapping):
        raise SettingsError(
            source,
            "applications",
            f"expected a table of application names, got {tables!r}",
            locate(("applications",)),
        )
    applications = {
        str(name): ApplicationSettings(
            **_section(
                table, ("applications", str(name)), APPLICATION_KEYS, source, locate
            )
        )
        for name, table in tables.items()
    }
    return Settings(environment, MappingProxyType(applications))


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return json.dumps(value)


def diff_settings(old: Settings, new: Settings) -> list[str]:
    """Describe what changed between two settings, one line per key.

    :param old: The settings in force before.
    :param new: The settings in force now.
    """
    changes = []
    pairs: list[tuple[str, ApplicationSettings, ApplicationSettings]] = [
        ("environment", old.environment, new.environment)
    ]
    for name in sorted({*old.applications, *new.applications}):
        pairs.append(
            (
                dotted_key(("applications", name)),
                old.application(name),
                new.application(name),
            )
        )
    for section, before, after in pairs:
        for f in fields(before):
            was, now = getattr(before, f.name), getattr(after, f.name)
            if was != now:
                changes.append(f"{section}.{f.name}: {_show(was)} -> {_show(now)}")
    return changes
