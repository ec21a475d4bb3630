"""How the client reached us: scheme and host, through trusted proxies only.

Unlike Flask-Talisman, which believes ``X-Forwarded-Proto`` from anyone, and
werkzeug's ``ProxyFix``, which trusts a number of hops, forwarded headers
count here only when the connection comes from an address in the
``trusted_proxies`` setting. Headers with underscores (``X_Forwarded_Proto``)
are dropped by gunicorn and werkzeug's server before they reach the app, so
they cannot pose as the real ones.

What a trusted proxy says is checked strictly and never read in the
client's favour: a ``Forwarded`` header that does not parse counts as plain
HTTP to the ``Host`` header's host, and two headers that disagree on the
host make neither count.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import typing as t

from .location import split_host
from .settings import Network

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger("flask_enforce_https")

#: Where :class:`~flask_enforce_https.middleware.HTTPSMiddleware` leaves the
#: :class:`ClientView` of a request in the WSGI environ.
VIEW_KEY = "flask_enforce_https.client"
#: Where the scheme and host the server gave are kept when the client's view
#: replaced them, as werkzeug's ``ProxyFix`` keeps ``werkzeug.proxy_fix.orig``.
ORIGINAL_KEY = "flask_enforce_https.orig"
#: What werkzeug's ``ProxyFix`` leaves when it rewrote the environ.
PROXY_FIX_KEY = "werkzeug.proxy_fix.orig"

_PEERS_REMEMBERED = 1024
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# A quoted string: only '"' and '\\' delimit it, so any other character
# inside one is unambiguous (RFC 7230 would refuse control characters).
_QUOTED = r'"(?:[^"\\]|\\[\s\S])*"'
# One pair, then what ends it. A value we do not use may be written loosely
# (nginx's ``for=$remote_addr`` gives an unquoted IPv6 address), but never
# with a quote, comma, semicolon or space in it.
# Possessive spaces: with plain ones, a run of spaces after a separator is
# tried every way round the empty pair, in time that grows with its square.
_PAIR = re.compile(
    rf"[ \t]*+(?:({_TCHARS})=(?:({_QUOTED})|([^\s\",;]*+))[ \t]*+)?([,;]|$)"
)
_IS_TCHARS = re.compile(_TCHARS)
_ESCAPE = re.compile(r"\\(.)")
_USED = ("proto", "host")
_warned: set[str] = set()


class MalformedHeader(ValueError):
    """A forwarded header from a trusted proxy that cannot be read safely."""


class ClientView(t.NamedTuple):
    """How the client made the request, as far as it can be trusted.

    :param secure: Whether the client used HTTPS.
    :param host: The ``Host`` the client used (``host[:port]``), or
        ``None`` when it sent none or the proxies' hosts disagree.
    :param trusted: Whether the peer is a trusted proxy, judged on the
        address the server gave, before any other middleware rewrote it.
    :param conflict: Whether a trusted proxy's headers disagree on the
        host, or name one that is not valid, so that no host can be trusted.
    """

    secure: bool
    host: str | None
    trusted: bool = False
    conflict: bool = False


class TrustedProxies:
    """The ``trusted_proxies`` networks, with the answer for each peer
    remembered (a bounded number of them).

    An IPv4 address and its IPv4-mapped IPv6 form (``::ffff:10.0.0.5``)
    are the same peer, in the settings and in ``REMOTE_ADDR`` alike.

    :param networks: The trusted networks.
    """

    def __init__(self, networks: t.Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self._v4: list[ipaddress.IPv4Network] = []
        self._v6: list[ipaddress.IPv6Network] = []
        mapped = ipaddress.IPv6Network("::ffff:0:0/96")
        for network in self.networks:
            if isinstance(network, ipaddress.IPv4Network):
                self._v4.append(network)
            elif network.subnet_of(mapped):
                address = int(network.network_address) & 0xFFFFFFFF
                self._v4.append(
                    ipaddress.IPv4Network((address, network.prefixlen - 96))
                )
            else:
                self._v6.append(network)
        self._known: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer``, a ``REMOTE_ADDR``, is a trusted proxy.

        :param peer: The peer address; anything but an IP address is not.
        """
        if not self.networks or not peer:
            return False
        try:
            return self._known[peer]
        except KeyError:
            answer = self._trusts(peer)
            # Peers come from the network: remember a bounded number.
            if len(self._known) < _PEERS_REMEMBERED:
                self._known[peer] = answer
            return answer

    def _trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is None:
                return any(address in network for network in self._v6)
            address = address.ipv4_mapped
        if any(address in network for network in self._v4):
            return True
        # An IPv6 network wider than ::ffff:0:0/96 (``::/0``) holds it too.
        as_v6 = ipaddress.IPv6Address(f"::ffff:{address}")
        return any(as_v6 in network for network in self._v6)


def forwarded_elements(value: str) -> list[dict[str, str]]:
    """Parse an RFC 7239 ``Forwarded`` header into its elements.

    Names are lowercased and quoted values unescaped. Pairs we do not use
    may have loose values, but ``proto`` and ``host`` must be a token or a
    quoted string, and may appear once per element.

    :param value: The header value (several header lines joined by commas).
    :raises MalformedHeader: The header cannot be read unambiguously: an
        unterminated quote, a stray character, a repeated ``proto``.
    """
    elements: list[dict[str, str]] = [{}]
    position, end = 0, len(value)
    while position < end or position == 0:
        match = _PAIR.match(value, position)
        if match is None or (match.end() == position and position < end):
            raise MalformedHeader(f"cannot parse at character {position + 1}")
        name, quoted, bare, separator = match.groups()
        if name is not None:
            name = name.lower()
            element = elements[-1]
            if name in _USED:
                if name in element:
                    raise MalformedHeader(f"{name!r} appears twice in one element")
                # A host with a port must be quoted, strictly; a valid host
                # name with one is still unambiguous.
                if (
                    quoted is None
                    and not _IS_TCHARS.fullmatch(bare)
                    and (name != "host" or split_host(bare) is None)
                ):
                    raise MalformedHeader(f"{name}={bare!r} is not a token")
            if quoted is not None:
                element[name] = _ESCAPE.sub(r"\1", quoted[1:-1])
            else:
                element[name] = bare
        if separator == ",":
            elements.append({})
        position = match.end()
        if not separator:
            break
    return elements


def _last(value: str | None) -> str | None:
    if value is None:
        return None
    return value.rpartition(",")[2].strip() or None


def _warn_once(message: str) -> None:
    if message not in _warned and len(_warned) < 100:
        _warned.add(message)
        logger.warning(message)


def client_view(environ: WSGIEnvironment, proxies: TrustedProxies) -> ClientView:
    """Work out how the client made the request.

    The peer address, scheme and host are the server's, from before
    werkzeug's ``ProxyFix`` rewrote them when it ran first. Forwarded
    headers count only from a trusted peer, and only the nearest proxy's
    value: the last of a comma list, the last ``Forwarded`` element.

    :param environ: The WSGI environ.
    :param proxies: The trusted proxies.
    """
    server: t.Mapping[str, t.Any] = environ
    fixed = environ.get(PROXY_FIX_KEY)
    if isinstance(fixed, dict):
        _warn_once(
            "werkzeug's ProxyFix ran before flask-enforce-https: requests are"
            " judged by the address, scheme and host the server gave, and"
            " forwarded headers count only from trusted_proxies"
        )
        server = fixed
    secure = server.get("wsgi.url_scheme") == "https"
    host = server.get("HTTP_HOST")
    if not proxies.trusts(server.get("REMOTE_ADDR")):
        return ClientView(secure, host)
    proto = _last(environ.get("HTTP_X_FORWARDED_PROTO"))
    forwarded_host = _last(environ.get("HTTP_X_FORWARDED_HOST"))
    if forwarded_host is None and "HTTP_FORWARDED" not in environ:
        # The common case, a proxy that sends X-Forwarded-Proto only: the
        # host is the server's, and one scheme has nothing to disagree with.
        if proto is not None:
            secure = proto.lower() == "https"
        return ClientView(secure, host, True)
    element: dict[str, str] = {}
    if "HTTP_FORWARDED" in environ:
        try:
            element = forwarded_elements(environ["HTTP_FORWARDED"])[-1]
        except MalformedHeader as e:
            _warn_once(
                f"a trusted proxy sent a Forwarded header that cannot be"
                f" parsed ({e}); such requests count as plain HTTP to the"
                " Host header's host"
            )
            return ClientView(False, host, True)
    schemes = [v.lower() for v in (proto, element.get("proto")) if v is not None]
    if schemes:
        # When two headers disagree, believe the less secure one: the worst
        # it can cost is a redirect, never serving a TLS page over HTTP.
        secure = all(s == "https" for s in schemes)
    hosts = {v for v in (forwarded_host, element.get("host")) if v}
    if not hosts:
        return ClientView(secure, host, True)
    split = {split_host(v) for v in hosts}
    if len(split) != 1 or None in split:
        return ClientView(secure, None, True, True)
    host = hosts.pop()
    port = _last(environ.get("HTTP_X_FORWARDED_PORT"))
    only_host = split.pop()
    if (
        port is not None
        and only_host is not None
        and only_host[1] is None
        and port.isascii()
        and port.isdigit()
        and 0 < int(port) < 65536
        and int(port) != (443 if secure else 80)
    ):
        host = f"{only_host[0]}:{int(port)}"
    return ClientView(secure, host, True)


def show_to_app(environ: WSGIEnvironment, view: ClientView) -> None:
    """Make the application see the request as the client made it.

    ``request.scheme``, ``request.host``, ``url_for(_external=True)`` and
    werkzeug's own redirects then say what the client used. The server's
    values are kept under :data:`ORIGINAL_KEY`.

    :param environ: The WSGI environ, changed in place.
    :param view: How the client made the request.
    """
    fixed = environ.get(PROXY_FIX_KEY)
    if isinstance(fixed, dict):
        # What ProxyFix rewrote from headers nobody trusted goes back to the
        # server's values first: a client that sent no Host must not get
        # its X-Forwarded-Host into the app either.
        for key in ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT"):
            if key in fixed:
                if fixed[key] is None:
                    environ.pop(key, None)
                else:
                    environ[key] = fixed[key]
    scheme = "https" if view.secure else "http"
    host = view.host
    if environ.get("wsgi.url_scheme") == scheme and (
        host is None or environ.get("HTTP_HOST") == host
    ):
        return
    environ[ORIGINAL_KEY] = {
        "wsgi.url_scheme": environ.get("wsgi.url_scheme"),
        "HTTP_HOST": environ.get("HTTP_HOST"),
        "SERVER_PORT": environ.get("SERVER_PORT"),
    }
    environ["wsgi.url_scheme"] = scheme
    if host is not None:
        environ["HTTP_HOST"] = host
        split = split_host(host)
        if split is not None:
            environ["SERVER_PORT"] = str(split[1] or (443 if view.secure else 80))
