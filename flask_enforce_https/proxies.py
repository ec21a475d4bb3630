"""How the client reached us: scheme and host, through trusted proxies only.

Unlike Flask-Talisman, which believes ``X-Forwarded-Proto`` from anyone, and
werkzeug's ``ProxyFix``, which trusts a number of hops, forwarded headers
count here only when the connection comes from an address in the
``trusted_proxies`` setting. Headers with underscores (``X_Forwarded_Proto``)
are dropped by gunicorn and werkzeug's server before they reach the app, so
they cannot pose as the real ones.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from dataclasses import dataclass

from .settings import Network

_QUOTED_PAIR = re.compile(r"\\(.)")

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


@dataclass(frozen=True)
class Origin:
    """The request as the client made it.

    :param scheme: ``"http"`` or ``"https"``.
    :param host: The ``Host`` the client used (``host[:port]``), or
        ``None`` when it sent none.
    :param port: The port the client connected to, when known.
    :param forwarded: Whether a trusted proxy supplied any of these.
    """

    scheme: str
    host: str | None
    port: int | None
    forwarded: bool

    @property
    def is_secure(self) -> bool:
        """Whether the client used HTTPS."""
        return self.scheme == "https"


def is_trusted(remote_addr: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``remote_addr`` is in one of ``networks``.

    :param remote_addr: The peer address from the WSGI environ.
    :param networks: The trusted proxies.
    """
    if not networks or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _split(value: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double-quoted strings (RFC 7239)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def last_forwarded_element(value: str) -> dict[str, str]:
    """Parse the last element of an RFC 7239 ``Forwarded`` header.

    The last element is the one the nearest proxy added. Malformed pairs
    are ignored.

    :param value: The header value.
    """
    pairs: dict[str, str] = {}
    for pair in _split(_split(value, ",")[-1], ";"):
        name, sep, raw = pair.strip().partition("=")
        if not sep or not name:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1])
        pairs[name.strip().lower()] = raw
    return pairs


def _last(value: str | None) -> str | None:
    if value is None:
        return None
    return value.rpartition(",")[2].strip() or None


def _port(value: str | None) -> int | None:
    if (
        value is not None
        and value.isascii()
        and value.isdigit()
        and 0 < int(value) < 65536
    ):
        return int(value)
    return None


def _host_port(host: str | None) -> int | None:
    if host is None:
        return None
    head, sep, tail = host.rpartition(":")
    return _port(tail) if sep and not head.endswith(":") else None


def request_origin(environ: WSGIEnvironment, trusted: tuple[Network, ...]) -> Origin:
    """Return the scheme, host and port the client used.

    :param environ: The WSGI environ.
    :param trusted: The networks of the trusted proxies.
    """
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not is_trusted(environ.get("REMOTE_ADDR"), trusted):
        return Origin(
            scheme, host, _host_port(host) or _port(environ.get("SERVER_PORT")), False
        )
    element = {}
    if "HTTP_FORWARDED" in environ:
        element = last_forwarded_element(environ["HTTP_FORWARDED"])
    proto = _last(environ.get("HTTP_X_FORWARDED_PROTO"))
    schemes = [v.lower() for v in (proto, element.get("proto")) if v is not None]
    forwarded_host = _last(environ.get("HTTP_X_FORWARDED_HOST")) or element.get("host")
    forwarded_port = _port(_last(environ.get("HTTP_X_FORWARDED_PORT")))
    if schemes:
        # When two headers disagree, believe the less secure one: the worst
        # it can cost is a redirect, never serving a TLS page over HTTP.
        scheme = "https" if all(s == "https" for s in schemes) else "http"
    host = forwarded_host or host
    port = forwarded_port or _host_port(host)
    forwarded = bool(schemes or forwarded_host or forwarded_port)
    return Origin(scheme, host, port, forwarded)
