"""The client's address, as far as it can be trusted: the key the console
counts failed sign-ins by.

The peer (``REMOTE_ADDR`` as the server gave it, before werkzeug's
``ProxyFix`` rewrote it) is the client, unless it is one of the
``trusted_proxies``. Then the address comes from what the proxies wrote:
``X-Forwarded-For`` or the ``for=`` of ``Forwarded``, read from the right,
past the addresses of other trusted proxies, to the first one that is not.
Each of those was written by a trusted proxy, about its own peer; what lies
left of it came from the client, and is never read.

Anything that cannot be read safely gives the peer: a value that is not an
IP address (``unknown``, an obfuscated ``_name``, a host name), a
``Forwarded`` header that does not parse, or the two headers naming
different clients. The client must never choose its own key by sending
headers: the worst a bad header can do is share the proxy's key.
"""

from __future__ import annotations

import ipaddress
import typing as t

from ..proxies import (
    PROXY_FIX_KEY,
    MalformedHeader,
    TrustedProxies,
    forwarded_elements,
)
from ..snapshot import SNAPSHOT_KEY

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: A forwarded header longer than this is not read (the peer counts).
MAX_HEADER = 8192


def client_address(environ: WSGIEnvironment) -> str:
    """Return the client's address, through trusted proxies only.

    An IP address is written one way: compressed, and an IPv4-mapped IPv6
    address (``::ffff:10.0.0.5``) as IPv4, so that a client has one
    address whichever form a proxy used. A peer that is not an IP address
    (a Unix socket) is returned as the server gave it.

    The trusted proxies are those of the settings the request is judged
    by (:data:`~flask_enforce_https.snapshot.SNAPSHOT_KEY`, left by the
    extension's middleware); without them, no proxy is trusted.

    :param environ: The request's WSGI environ.
    """
    server: t.Mapping[str, t.Any] = environ
    fixed = environ.get(PROXY_FIX_KEY)
    if isinstance(fixed, dict):
        # ProxyFix ran first and rewrote REMOTE_ADDR from headers nobody
        # vouched for: the server's value is the one kept.
        server = fixed
    peer = str(server.get("REMOTE_ADDR") or "")
    peer_address = _address(peer)
    shown = peer if peer_address is None else str(peer_address)
    snapshot = environ.get(SNAPSHOT_KEY)
    proxies = getattr(snapshot, "proxies", None)
    if not isinstance(proxies, TrustedProxies) or not proxies.trusts(peer):
        return shown
    found = []
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded_for is not None:
        found.append(
            None
            if len(forwarded_for) > MAX_HEADER
            else _from_list(forwarded_for.split(","), proxies)
        )
    forwarded = environ.get("HTTP_FORWARDED")
    if forwarded is not None:
        found.append(_from_forwarded(forwarded, proxies))
    if not found or None in found or len(set(found)) != 1:
        # No header, one that cannot be read, or two naming different
        # clients (a proxy that sets one and passes the client's other).
        return shown
    return str(found[0])


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a peer or forwarded value, with any port and
    brackets removed; ``None`` when it holds none."""
    value = value.strip()
    if value.startswith("["):
        literal, sep, rest = value[1:].partition("]")
        if not sep or (rest and not _is_port(rest)):
            return None
        value = literal
    elif value.count(":") == 1:
        # IPv4 with a port, as some proxies write it; an IPv6 address has
        # more colons.
        value, _, port = value.partition(":")
        if not _is_port(f":{port}"):
            return None
    if "%" in value:  # a zone index names no client
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_port(text: str) -> bool:
    port = text[1:]
    return (
        text.startswith(":")
        and port.isascii()
        and port.isdigit()
        and 0 < int(port) < 65536
    )


def _from_list(
    values: t.Sequence[str], proxies: TrustedProxies
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The nearest address in ``values`` that is not a trusted proxy's,
    read from the right; the leftmost when all are; ``None`` when one read
    on the way is not an address."""
    address = None
    for value in reversed(values):
        address = _address(value)
        if address is None:
            return None
        if not proxies.trusts(str(address)):
            return address
    return address


def _from_forwarded(
    value: str, proxies: TrustedProxies
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if len(value) > MAX_HEADER:
        return None
    try:
        elements = forwarded_elements(value)
    except MalformedHeader:
        return None
    # An element without for= says nothing about the client: unreadable.
    return _from_list([e.get("for", "") for e in elements], proxies)
