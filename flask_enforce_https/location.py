"""The HTTPS URL a redirect points to, built so that no request can move it.

The host comes from configuration or from a validated ``Host``; the path and
query are the client's own bytes, percent-encoded where they are not valid
in a URI, so that ``//evil.com``, backslashes or CR/LF can neither change the
Location's host nor add a header.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import typing as t
from urllib.parse import quote

from werkzeug.sansio.utils import host_is_trusted

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?", re.ASCII | re.IGNORECASE)
# RFC 3986 pchar, "/" and "?", plus "%" so escapes the client sent stay intact.
_TARGET_SAFE = "!$&'()*+,;=:@/?%~"
_ABSOLUTE_FORM = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SAFE_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


@functools.lru_cache(maxsize=1024)
def split_host(value: str | None) -> tuple[str, int | None] | None:
    """Validate a ``Host`` value and split it into URL host and port.

    :param value: ``host``, ``host:port``, ``[ipv6]`` or ``[ipv6]:port``.
    :return: The host as it goes in a URL (IPv6 in brackets, lowercase)
        and the port, or ``None`` when the value is not a valid host.

    Results are cached (a bounded LRU): clients send the same few hosts.
    """
    if not value or len(value) > 260:
        return None
    if value.startswith("["):
        literal, sep, rest = value[1:].partition("]")
        if not sep or "%" in literal:
            return None
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        host = f"[{literal.lower()}]"
    else:
        host = value.partition(":")[0]
        rest = value[len(host) :]
        if len(host) > 253 or not _HOSTNAME.fullmatch(host):
            return None
        host = host.lower()
    if not rest or rest == ":":
        return host, None
    port_text = rest[1:]
    if rest[0] != ":" or not port_text.isascii() or not port_text.isdigit():
        return None
    port = int(port_text)
    return (host, port) if 0 < port < 65536 else None


def hostname(host: str | None) -> str | None:
    """Return the bare host of a ``Host`` value, or ``None``.

    The host is written the one way settings write it: lowercase, without a
    trailing dot, IPv6 without brackets and compressed (``[0:0:0:0:0:0:0:1]``
    gives ``::1``).

    :param host: A ``Host`` value.
    """
    split = split_host(host)
    if split is None:
        return None
    name = split[0]
    if name.startswith("["):
        # split_host has checked that it is an IPv6 address.
        return ipaddress.IPv6Address(name[1:-1]).compressed
    return name.removesuffix(".")


def _wsgi_bytes(value: str) -> bytes:
    # PEP 3333 strings carry the raw bytes as latin-1.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _encode(value: str) -> str:
    if _SAFE_TARGET.fullmatch(value):
        return value
    return quote(_wsgi_bytes(value), safe=_TARGET_SAFE)


def request_target(environ: WSGIEnvironment) -> str:
    """Return the path and query exactly as the client sent them.

    The server's raw ``REQUEST_URI``/``RAW_URI`` is used, so
    percent-encoding survives (of an absolute-form target, only the path and
    query); without one, the target is rebuilt from ``SCRIPT_NAME``, ``PATH_INFO``
    and ``QUERY_STRING``.

    :param environ: The WSGI environ.
    """
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
    if _ABSOLUTE_FORM.match(raw):
        # "http://host/path?query", as sent to proxies: keep the path and
        # query, never the host.
        rest = raw.partition("://")[2]
        cut = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
        raw = rest[min(cut) :] if cut else ""
        if not raw.startswith("/"):
            raw = "/" + raw
    if raw.startswith("/"):
        path, sep, query = raw.partition("?")
        if not sep and environ.get("QUERY_STRING"):
            # Werkzeug's test client leaves the query out of RAW_URI.
            sep, query = "?", environ["QUERY_STRING"]
    else:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        path = "/" + path.lstrip("/") if not path.startswith("/") else path
        query = environ.get("QUERY_STRING", "")
        sep = "?" if query else ""
        path = quote(_wsgi_bytes(path), safe="/")
    return _encode(path) + sep + _encode(query)


def https_location(
    environ: WSGIEnvironment,
    host: str | None,
    canonical: str | None,
    port: int,
    trusted_hosts: t.Collection[str] | None,
) -> str | None:
    """Return the absolute HTTPS URL for this request, or ``None`` if unsafe.

    :param environ: The WSGI environ, for the path and query.
    :param host: The ``Host`` the client used.
    :param canonical: The configured redirect host; it wins over ``host``.
    :param port: The HTTPS port; omitted from the URL when 443.
    :param trusted_hosts: Flask's ``TRUSTED_HOSTS``; when set, ``host``
        must match one of them.
    :return: The URL, or ``None`` when ``host`` is missing, invalid or not
        trusted and there is no ``canonical`` host.
    """
    if canonical is None:
        split = split_host(host)
        if split is None:
            return None
        if trusted_hosts and not host_is_trusted(host, trusted_hosts):
            return None
        canonical = split[0]
    netloc = canonical if port == 443 else f"{canonical}:{port}"
    return f"https://{netloc}{request_target(environ)}"
