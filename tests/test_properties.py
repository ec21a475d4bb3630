"""Property-based tests: what holds for every request, settings and config.

Each request runs against ``conftest.create_app`` (the "shop" app with an
endpoint of every kind) built from generated, valid administrator settings
and config (``ENFORCE_HTTPS_PORT``, optional ``ENFORCE_HTTPS_HOST``), with a
generated Host, raw request target, method, remote address and forwarded
headers. A small model, written from the documentation (the docstring table
of ``create_app``, docs/overview.rst, docs/proxies.rst, docs/settings.rst),
predicts what the extension does; the tests check it against the response:

1. never a 5xx;
2. a redirect's Location is ``https://`` on ``ENFORCE_HTTPS_HOST``, else on
   the host the client asked for (after the trusted-proxy rules), with
   ``ENFORCE_HTTPS_PORT`` (left out when 443);
3. the path and query of the raw request target survive byte for byte, only
   bytes not allowed in a URI's path and query being percent-encoded;
4. never HSTS over HTTP, over HTTPS HSTS exactly when ``hsts`` is on and the
   host is not excluded, and never two ``Strict-Transport-Security`` headers;
5. forwarded headers from an address that is not a trusted proxy change
   nothing;
6. only screens are redirected (301 for GET and HEAD, 308 otherwise), and
   integrations that need TLS get 403, whatever the method;
7. ``parse_settings`` returns a ``Settings`` or raises ``SettingsError``
   naming a key that exists in the data;
8. administrator overrides never lower an endpoint's level.

What the generators leave out, and why:

* Every environ string (Host, header values, the raw target) holds only
  characters up to U+00FF: PEP 3333 servers hand the application the raw
  bytes decoded as latin-1, so nothing else can arrive. Non-ASCII text is
  generated as its UTF-8 bytes in that form.
* The Host, the raw target, the method and the forwarded headers go in
  through ``environ_overrides``, as a server would set them: the test client
  parses ``//evil.com`` as a host, refuses CR/LF in header values and
  upper-cases methods. A missing Host cannot be expressed that way (the
  test client always sets one), so an empty Host stands for it.
* A query never holds a raw CR or LF (a path may): servers end the request
  line there, and werkzeug's own trailing-slash redirect, which copies the
  query unencoded into its Location, raises on one.
* Methods are RFC 9110 tokens: servers refuse anything else before the
  application sees it. Werkzeug upper-cases the method for the application
  (``get`` is ``GET``), and the model does the same.
* ``Forwarded`` headers are generated as RFC 7239 elements with arbitrary
  (properly quoted) values, whose meaning the model knows. Unstructured
  garbage ``Forwarded`` values, whose meaning no document fixes, are only
  used by the properties that need no model of them (1 and 5).

What the model takes as given, where the documents leave a choice:

* The redirects checked are the extension's. A request the extension lets
  through gets whatever Flask's routing answers (200, 404, 405, or Flask's
  own 308 for a missing trailing slash or doubled slashes, with a Location
  of Flask's making).
* A 405 takes the kind and level of the endpoint of its URL
  (docs/declarations.rst); a 404 is a screen at the default level.
* In a path and query, "[", "]" and "#" are not URI characters (RFC 3986
  allows them in the authority only); "%" is, so that the client's escapes
  stay as sent.
* An IPv4 address and its IPv4-mapped form are one peer, in the remote
  address and in ``trusted_proxies`` alike (docs/proxies.rst). A trusted
  proxy's ``X-Forwarded-Host`` and ``Forwarded`` host that disagree, or
  that are not valid hosts, make neither count: ``ENFORCE_HTTPS_HOST``,
  else a 400. ``hsts_excluded_hosts`` match the request's host
  name case-insensitively, as text.
* ``/own-hsts`` sets its own HSTS header, which the extension keeps: over
  HTTPS without adding a second, over HTTP untouched (test_hsts.py).
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
import string
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urlsplit

import attacks
import pki
import pytest
from conftest import create_app
from flask import Flask, request
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.test import TestResponse

from flask_enforce_https import HttpSecurity, Kind, Settings, SettingsError
from flask_enforce_https.declarations import Design
from flask_enforce_https.policy import resolve
from flask_enforce_https.settings import (
    APPLICATION_KEYS,
    DEFAULT_EXCLUDED_HOSTS,
    ENVIRONMENT_KEYS,
    dotted_key,
    parse_settings,
)

NONE, TLS, CERT = HttpSecurity.NONE, HttpSecurity.TLS, HttpSecurity.TLS_CLIENT_CERT
SCREEN, REST, SOAP = Kind.SCREEN, Kind.REST, Kind.SOAP
HSTS = "Strict-Transport-Security"
APPLICATION = "shop"
SAFE_METHODS = ("GET", "HEAD")

#: ``create_app``'s docstring table: endpoint -> (kind, design-time level).
#: ``None`` is an unmatched URL, a screen at the default level ("none");
#: ``static`` is Flask's own, undeclared.
DESIGNS: dict[str | None, tuple[Kind, HttpSecurity]] = {
    "home": (SCREEN, NONE),
    "page": (SCREEN, NONE),
    "secure": (SCREEN, TLS),
    "account.account_home": (SCREEN, TLS),
    "account.login": (SCREEN, TLS),
    "account.help_page": (SCREEN, NONE),
    "orders": (REST, TLS),
    "status": (REST, NONE),
    "soap": (SOAP, TLS),
    "soap_open": (SOAP, NONE),
    "healthz": (SCREEN, NONE),
    "cookies": (SCREEN, NONE),
    "own_hsts": (SCREEN, NONE),
    "partner": (REST, CERT),
    "static": (SCREEN, NONE),
    None: (SCREEN, NONE),
}

#: RFC 3986 path and query characters (pchar, "/", "?"), and "%" so that the
#: client's own escapes stay as sent. "[" and "]" are allowed only in the
#: authority, "#" starts a fragment: they, like every other byte, must be
#: percent-encoded in a Location's path and query.
URI_SAFE = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/?%")
LATIN1 = st.characters(max_codepoint=0xFF)

# --------------------------------------------------------------------------
# Generators: hosts, addresses, targets, methods, headers
# --------------------------------------------------------------------------

HOST_POOL = (
    "localhost",
    "example.com",
    "shop.example.com",
    "127.0.0.1",
    "10.1.2.3",
    "[::1]",
)
_LABEL = r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?"
HOST_NAMES = st.from_regex(rf"{_LABEL}(\.{_LABEL}){{0,2}}\.?", fullmatch=True)
VALID_HOSTS = st.tuples(
    st.one_of(
        st.sampled_from(HOST_POOL),
        HOST_NAMES,
        st.ip_addresses(v=4).map(str),
        st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    ),
    st.booleans(),
).map(lambda pair: pair[0].upper() if pair[1] else pair[0])
#: Port texts: numbers in and out of range, and what only looks like one:
#: superscript digits ("\xb9", "\xb2", "\xb3") are digits to str.isdigit(),
#: but not to int().
PORTS = st.one_of(
    st.integers(-5, 70_000).map(str),
    st.sampled_from(
        [
            *("", "0", "0443", "65536", " 443", "+80", "8o", "\xbd"),
            *("\xb9", "\xb2\xb3", "4\xb3", "\xb9443"),
        ]
    ),
    st.text(LATIN1, max_size=3),
)
HOST_HEADERS = st.one_of(
    VALID_HOSTS,
    st.tuples(VALID_HOSTS, st.integers(0, 70_000)).map(lambda hp: f"{hp[0]}:{hp[1]}"),
    st.tuples(VALID_HOSTS, PORTS).map(lambda hp: f"{hp[0]}:{hp[1]}"),
    # Empty, empty labels, a label over 63 characters, a soft hyphen (which
    # IDNA maps to nothing): names neither werkzeug nor a DNS would take.
    st.sampled_from(["", ".", "..", "a..b", "x" * 64 + ".example.com", "\xad"]),
    st.sampled_from(attacks.values(attacks.INVALID_HOSTS)),
    st.text(LATIN1, max_size=20),
    st.tuples(
        VALID_HOSTS, st.sampled_from(list('/\\@ ?#,;"\r\n\x00\t')), VALID_HOSTS
    ).map("".join),
)

REMOTE_ADDRS = st.one_of(
    st.sampled_from(["127.0.0.1", "10.1.2.3", "::1", "::ffff:10.1.2.3"]),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4).map(lambda ip: f"::ffff:{ip}"),
    st.sampled_from(
        [
            *("", "unix:", "localhost", "127.0.0.1:8080", "10.1.2.3, 127.0.0.1"),
            *(" 127.0.0.1", "fe80::1%eth0", "::ffff:999.1.1.1", "1.2.3"),
        ]
    ),
    st.text(LATIN1, max_size=12),
)

#: A path for each endpoint (and a few that match none), with its methods.
ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET",),
    "/page": ("GET",),
    "/secure": ("GET", "POST", "PUT", "DELETE", "PATCH"),
    "/account/": ("GET",),
    "/account/login": ("GET", "POST"),
    "/account/help": ("GET",),
    "/api/orders": ("GET", "POST", "PUT", "DELETE"),
    "/api/status": ("GET",),
    "/soap": ("POST",),
    "/soap/open": ("POST",),
    "/healthz": ("GET",),
    "/cookies": ("GET",),
    "/own-hsts": ("GET",),
    "/partner": ("GET",),
    "/static/app.css": ("GET",),
    "/account": ("GET",),
    "/no-such-page": ("GET",),
    "/static/../secure": ("GET",),
    "/account/./login": ("GET", "POST"),
}
FRAGMENTS = st.one_of(
    st.sampled_from([*attacks.PIECES, *attacks.values(attacks.TARGETS)]),
    st.text(alphabet=sorted(URI_SAFE - {"?"}), max_size=8),
    st.text(LATIN1, max_size=4),
    st.text(max_size=4).map(lambda s: s.encode("utf-8").decode("latin-1")),
)
SUFFIXES = st.lists(FRAGMENTS, max_size=4).map("".join)
COMMON_METHODS = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
)
ODD_METHODS = st.one_of(
    st.sampled_from(
        ["get", "Head", "post", "TRACE", "CONNECT", "PROPFIND", "M-SEARCH"]
    ),
    st.from_regex(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}", fullmatch=True),
)


@st.composite
def requests(
    draw: st.DrawFn, paths: t.Sequence[str] = tuple(ROUTES), suffixes: bool = True
) -> tuple[str, str]:
    """A method and a raw request target (origin form, as a server puts it
    in REQUEST_URI): often one the app routes, else anything.

    :param paths: The paths to start from.
    :param suffixes: Whether to add arbitrary text to the path.
    """
    # The endpoints with most to get wrong come up more often.
    weighted = ("/partner", "/own-hsts", "/secure", "/api/orders", "/soap")
    path = draw(st.sampled_from([*sorted(paths), *(p for p in weighted if p in paths)]))
    allowed = st.sampled_from([*ROUTES[path], "HEAD", "OPTIONS"])
    method = draw(st.one_of(allowed, allowed, COMMON_METHODS, ODD_METHODS))
    if suffixes and not draw(st.integers(0, 2)):
        path += draw(SUFFIXES)
    if draw(st.booleans()):
        path += "?" + draw(SUFFIXES)
    # No raw CR or LF in a query: no server delivers one (they end the
    # request line), and werkzeug's own slash redirect, which copies the
    # query as it is, raises on it. In the path they stay.
    head, mark, query = path.partition("?")
    return method, head + mark + query.replace("\r", "").replace("\n", "")


PROTOS = st.one_of(
    st.sampled_from(["https", "http", "HTTPS", "Https", "wss", "ftp", "", " https "]),
    st.text(LATIN1, max_size=6),
)


def comma_list(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A header value of one to three items, joined as proxies join them."""
    return st.tuples(
        st.lists(items, min_size=1, max_size=3), st.sampled_from([",", ", ", " , "])
    ).map(lambda pair: pair[1].join(pair[0]))


TCHAR = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
FORWARDED_VALUES: dict[str, st.SearchStrategy[str]] = {
    "for": st.one_of(
        st.ip_addresses().map(str), st.sampled_from(["unknown", "_hidden"]), PROTOS
    ),
    "by": st.ip_addresses().map(str),
    "host": HOST_HEADERS,
    "proto": PROTOS,
    "ext": st.text(LATIN1, max_size=6),
}


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@st.composite
def forwarded_elements(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """One RFC 7239 element, and what it says, by lowercase parameter name."""
    names = draw(st.lists(st.sampled_from(sorted(FORWARDED_VALUES)), unique=True))
    pairs: list[str] = []
    meaning: dict[str, str] = {}
    for name in names:
        value = draw(FORWARDED_VALUES[name])
        as_token = bool(value) and set(value) <= TCHAR and draw(st.booleans())
        shown = draw(st.sampled_from([name, name.upper(), name.capitalize()]))
        pairs.append(f"{shown}={value if as_token else _quoted(value)}")
        meaning[name] = value
    return draw(st.sampled_from([";", "; "])).join(pairs), meaning


@st.composite
def forwarded_headers(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A ``Forwarded`` value of RFC 7239 elements, and what its last element
    (the nearest proxy's) says."""
    elements = draw(st.lists(forwarded_elements(), min_size=1, max_size=3))
    separator = draw(st.sampled_from([",", ", "]))
    return separator.join(text for text, _ in elements), elements[-1][1]


@functools.cache
def client_certificates() -> tuple[tuple[str, bool], ...]:
    """``X-SSL-Client-Cert`` values, and whether each holds a certificate
    that verifies against the app's client CA."""
    ca = pki.test_ca()
    valid = ca.issue("partner", usage="client").cert_pem().decode("ascii")
    return (
        (quote(valid), True),
        (valid, True),
        (quote(ca.pem().decode("ascii")), False),
        (quote(valid.replace("A", "B", 1)), False),
        ("-----BEGIN CERTIFICATE-----AAAA-----END CERTIFICATE-----", False),
        ("", False),
    )


@dataclass(frozen=True)
class ProxyHeaders:
    """Forwarded headers as environ keys, and what the model knows of them.

    :param environ: ``HTTP_*`` keys and their values.
    :param forwarded: What the last ``Forwarded`` element says; ``{}`` when
        there is none, ``None`` when the value is not modelled.
    :param certificate_verifies: Whether ``X-SSL-Client-Cert`` verifies.
    """

    environ: Mapping[str, str]
    forwarded: Mapping[str, str] | None
    certificate_verifies: bool


#: Each forwarded header is there two times in three.
SOMETIMES = st.sampled_from([False, True, True])


@st.composite
def proxy_headers(draw: st.DrawFn, garbage: bool) -> ProxyHeaders:
    """Any subset of the forwarded headers, with arbitrary values."""
    environ: dict[str, str] = {}
    if draw(SOMETIMES):
        environ["HTTP_X_FORWARDED_PROTO"] = draw(comma_list(PROTOS))
    if draw(SOMETIMES):
        environ["HTTP_X_FORWARDED_HOST"] = draw(comma_list(HOST_HEADERS))
    if draw(SOMETIMES):
        environ["HTTP_X_FORWARDED_PORT"] = draw(comma_list(PORTS))
    forwarded: Mapping[str, str] | None = {}
    if draw(SOMETIMES):
        if garbage and draw(st.booleans()):
            value = draw(st.text(LATIN1, max_size=30))
            # Without "=" there is no parameter at all: the model knows that.
            forwarded = None if "=" in value else {}
        else:
            value, forwarded = draw(forwarded_headers())
        environ["HTTP_FORWARDED"] = value
    verifies = False
    if draw(SOMETIMES):
        value, verifies = draw(st.sampled_from(client_certificates()))
        environ["HTTP_X_SSL_CLIENT_CERT"] = value
    return ProxyHeaders(environ, forwarded, verifies)


# --------------------------------------------------------------------------
# Generators: settings and config
# --------------------------------------------------------------------------

ENVIRONMENT_BOOLEANS = (
    "hsts",
    "hsts_include_subdomains",
    "hsts_preload",
    "force_https_screens",
    "force_https_integrations",
    "secure_cookies",
)
APPLICATION_BOOLEANS = ("force_https_screens", "force_https_integrations")
EXEMPT_PATHS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *("/healthz", "/secure", "/account/", "/api/", "/api/orders"),
                *("/soap", "/partner", "/static/", "/page", "/own-hsts"),
                *("/no-such-page", "/account/login", "/soap/open"),
            ]
        ),
        # "/" alone would exempt everything: settings refuse it.
        st.from_regex(r"/[\x21-\x7e]{1,8}", fullmatch=True),
    ),
    max_size=3,
)
EXCLUDED_HOSTS = st.lists(
    st.one_of(
        st.sampled_from((*HOST_POOL, "::1", "EXAMPLE.com", " Localhost ")),
        VALID_HOSTS,
    ),
    max_size=3,
)
APPLICATION_TABLES = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.booleans() for key in (*APPLICATION_BOOLEANS, "secure_cookies")},
        "exempt_paths": EXEMPT_PATHS,
    },
)
NETWORK_POOL = (
    "127.0.0.1",
    "10.0.0.0/8",
    "::1",
    "192.168.0.0/16",
    "2001:db8::/32",
    "::ffff:0:0/96",
    "0.0.0.0/0",
)


def _address(remote: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The remote address as the docs match it: IPv4-mapped as IPv4."""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _as_ipv4(network: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A ``trusted_proxies`` entry, an IPv4-mapped one as its IPv4 network."""
    net = ipaddress.ip_network(network)
    mapped = ipaddress.IPv6Network("::ffff:0:0/96")
    if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(mapped):
        return ipaddress.IPv4Network(
            (int(net.network_address) - int(mapped.network_address), net.prefixlen - 96)
        )
    return net


def is_trusted(remote: str, proxies: t.Sequence[str]) -> bool:
    """Whether ``remote`` is in ``trusted_proxies`` (docs/proxies.rst): an
    IPv4 address and its IPv4-mapped form are the same, both ways."""
    address = _address(remote)
    if address is None:
        return False
    forms: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [address]
    if isinstance(address, ipaddress.IPv4Address):
        forms.append(ipaddress.IPv6Address(f"::ffff:{address}"))
    return any(
        form in _as_ipv4(network)
        for network in proxies
        for form in forms
        if form.version == _as_ipv4(network).version
    )


@st.composite
def networks_around(draw: st.DrawFn, remote: str, contain: bool) -> str:
    """A network holding ``remote`` (a valid address), or else the sibling
    network right next to it."""
    address = _address(remote)
    assert address is not None
    bits = address.max_prefixlen
    prefix = draw(st.integers(0 if contain else 1, bits))
    net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    if not contain:
        flipped = int(net.network_address) ^ (1 << (bits - prefix))
        net = type(net)((flipped, prefix))
    # Built here, not with .map(), so that failures show the network itself.
    return str(net)


@st.composite
def trusted_proxies(draw: st.DrawFn, remote: str, trust: str) -> list[str] | None:
    """A ``trusted_proxies`` list for requests from ``remote``.

    :param trust: ``"any"``, or ``"untrusted"`` for lists that never hold
        ``remote``.
    """
    if trust == "any" and not draw(st.integers(0, 2)):
        return None
    choices: list[st.SearchStrategy[str]] = [st.sampled_from(NETWORK_POOL)]
    holding = False
    if _address(remote) is not None:
        choices.append(networks_around(remote, False))
        holding = trust == "any" and draw(st.booleans())
    proxies = draw(st.lists(st.one_of(choices), max_size=3))
    if holding:
        # Often, a list with a network that holds the remote address.
        where = draw(st.integers(0, len(proxies)))
        proxies.insert(where, draw(networks_around(remote, True)))
    if trust == "untrusted":
        assume(not is_trusted(remote, proxies))
    return proxies


@st.composite
def settings_mappings(draw: st.DrawFn, remote: str, trust: str = "any") -> t.Any:
    """A valid ``ENFORCE_HTTPS_SETTINGS`` mapping, every key optional."""
    environment: dict[str, t.Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "hsts_max_age": st.integers(0, 10**9),
                "hsts_excluded_hosts": EXCLUDED_HOSTS,
                "exempt_paths": EXEMPT_PATHS,
            },
        )
    )
    for key in ENVIRONMENT_BOOLEANS:
        # Unset (the default, false), false, or, most often, true.
        value = draw(st.sampled_from([None, False, True, True]))
        if value is not None:
            environment[key] = value
    proxies = draw(trusted_proxies(remote, trust))
    if proxies is not None:
        environment["trusted_proxies"] = proxies
    applications: dict[str, t.Any] = draw(
        st.dictionaries(
            st.sampled_from([APPLICATION, "blog", "Shop"]),
            APPLICATION_TABLES,
            max_size=2,
        )
    )
    data: dict[str, t.Any] = {}
    keep_empty: bool = draw(st.booleans())  # an empty table, or none at all
    if environment or keep_empty:
        data["environment"] = environment
    if applications or keep_empty:
        data["applications"] = applications
    return data


CANONICAL_HOSTS = st.one_of(
    st.sampled_from(
        ["www.example.com", "WWW.Example.COM", "10.1.2.3", "::1", "[2001:DB8::1]"]
    ),
    HOST_NAMES,
)
CONFIGS = st.fixed_dictionaries(
    {
        "ENFORCE_HTTPS_PORT": st.one_of(
            st.just(443),
            st.sampled_from([80, 8443, 1, 65535, "8443", "443"]),
            st.integers(1, 65535),
        )
    },
    optional={"ENFORCE_HTTPS_HOST": CANONICAL_HOSTS},
)


@dataclass(frozen=True)
class Scenario:
    """One app (settings and config) and one request to it."""

    settings: t.Any
    config: Mapping[str, t.Any]
    scheme: str
    method: str
    target: str
    host: str
    remote: str
    headers: ProxyHeaders


@st.composite
def scenarios(
    draw: st.DrawFn,
    trust: str = "any",
    garbage: bool = False,
    schemes: tuple[str, ...] = ("http", "https"),
    force_screens: bool = False,
    paths: t.Sequence[str] = tuple(ROUTES),
) -> Scenario:
    """A settings mapping, a config and a request.

    :param trust: As for :func:`trusted_proxies`.
    :param garbage: Whether ``Forwarded`` may be unstructured garbage.
    :param schemes: The schemes the client may use.
    :param force_screens: Set ``force_https_screens`` in the environment.
    :param paths: Only these paths, with a query at most.
    """
    remote = draw(REMOTE_ADDRS)
    data = draw(settings_mappings(remote, trust))
    method, target = draw(requests(paths, suffixes=paths == tuple(ROUTES)))
    if force_screens:
        data.setdefault("environment", {})["force_https_screens"] = True
    return Scenario(
        settings=data,
        config=draw(CONFIGS),
        scheme=draw(st.sampled_from(schemes)),
        method=method,
        target=target,
        host=draw(HOST_HEADERS),
        remote=remote,
        headers=draw(proxy_headers(garbage)),
    )


# --------------------------------------------------------------------------
# Running a scenario
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _app(key: str) -> Flask:
    data, config = json.loads(key)
    return create_app(data, **config)


def app_for(scenario: Scenario) -> Flask:
    """The app for the scenario's settings and config, built once: requests
    never change an app."""
    return _app(json.dumps([scenario.settings, scenario.config], sort_keys=True))


def environ_overrides(scenario: Scenario, forwarded: bool = True) -> dict[str, str]:
    """The environ a server would build for the scenario's request: the raw
    target in REQUEST_URI and RAW_URI, PATH_INFO its percent-decoded path."""
    path, _, query = scenario.target.partition("?")
    environ = {
        "REQUEST_METHOD": scenario.method,
        "HTTP_HOST": scenario.host,
        "REMOTE_ADDR": scenario.remote,
        "PATH_INFO": unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
        "QUERY_STRING": query,
        "RAW_URI": scenario.target,
        "REQUEST_URI": scenario.target,
    }
    if forwarded:
        environ.update(scenario.headers.environ)
    return environ


def respond(scenario: Scenario, forwarded: bool = True) -> TestResponse:
    """Send the scenario's request; ``forwarded=False`` leaves out the
    forwarded headers."""
    client = app_for(scenario).test_client(use_cookies=False)
    return client.open(
        "/",
        base_url=f"{scenario.scheme}://localhost",
        environ_overrides=environ_overrides(scenario, forwarded),
    )


@dataclass(frozen=True)
class Route:
    """What Flask's routing, not the extension, makes of the request.

    :param endpoint: The matched endpoint; ``None`` when routing failed.
    :param url_endpoint: The endpoint whose rule matches the path, whatever
        the method (differs from ``endpoint`` on a 405): the one whose kind
        and level count.
    :param status: What the app answers when the extension lets it through.
    :param path: The request path, as routing sees it.
    :param method: The method, as werkzeug gives it to the app.
    :param unroutable: Routing failed before matching a path (a Host
        werkzeug cannot route): Flask answers 400 and the extension lets it.
    :param bad_host_redirect: Flask would answer with its own redirect (a
        missing slash, doubled slashes), built from a Host that is not
        valid: the extension answers 400 instead of serving it.
    """

    endpoint: str | None
    url_endpoint: str | None
    status: int
    path: str
    method: str
    unroutable: bool = False
    bad_host_redirect: bool = False


def _endpoint_of_url(
    app: Flask, methods: t.Iterable[str], path: str | None = None
) -> str | None:
    """The endpoint of the rule a 405 request's URL matches with one of the
    rule's own methods, or that a slash redirect's ``path`` matches; an
    integration wins where there are several."""
    adapter = app.create_url_adapter(request)
    assert adapter is not None
    found: set[str] = set()
    for method in methods:
        try:
            found.add(adapter.match(path, method=method)[0])
        except HTTPException:  # a redirect to another path: not this URL's
            continue
    integrations = [e for e in found if DESIGNS[e][0].is_integration]
    return min(integrations or found, default=None)


def route_of(scenario: Scenario) -> Route:
    """Ask Flask's own routing about the scenario's request, as the app
    sees it: with the scheme and host a trusted proxy said the client used."""
    app = app_for(scenario)
    overrides = environ_overrides(scenario)
    scheme = scenario.scheme
    view = client_view(scenario)
    if view is not None and not view.conflict:
        scheme = "https" if view.secure else "http"
        overrides["HTTP_HOST"] = view.host
    with app.test_request_context(
        "/", base_url=f"{scheme}://localhost", environ_overrides=overrides
    ):
        error = request.routing_exception
        endpoint = request.endpoint
        url_endpoint = endpoint
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            url_endpoint = _endpoint_of_url(app, error.valid_methods)
        elif isinstance(error, RequestRedirect):
            # The URL is the rule's but for a slash: that endpoint counts.
            new_path = urlsplit(error.new_url).path
            url_endpoint = _endpoint_of_url(app, [request.method], new_path)
        if isinstance(error, HTTPException):
            status = error.code or 500
        elif endpoint == "static" and request.method != "OPTIONS":
            status = 404  # the app has no static folder
        else:
            status = 200
        unroutable = error is not None and not isinstance(
            error, (NotFound, MethodNotAllowed, RequestRedirect)
        )
        bad_host_redirect = isinstance(error, RequestRedirect) and (
            url_host(request.environ.get("HTTP_HOST")) is None
        )
        return Route(
            endpoint,
            url_endpoint,
            status,
            request.path,
            request.method,
            unroutable,
            bad_host_redirect,
        )


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


def url_host(value: str | None) -> str | None:
    """The host of a ``Host`` value as it goes in a URL (lowercase, IPv6 in
    brackets, no port), or ``None`` when the value is not a valid host:
    a name of letters, digits, "-" and "_" labels, an IPv4 address, or a
    bracketed IPv6 address, with an optional port from 1 to 65535."""
    if not value:
        return None
    found = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]*))?", value)
    if found is None:
        return None
    host, port = found.groups()
    if port and not 0 < int(port) < 65536:
        return None
    if host.startswith("["):
        literal = host[1:-1]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        return None if "%" in literal else host.lower()
    labels = host.removesuffix(".").split(".")
    label = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
    if len(host) > 253 or not all(label.fullmatch(part) for part in labels):
        return None
    return host.lower()


def canonical_host(config: Mapping[str, t.Any]) -> str | None:
    """``ENFORCE_HTTPS_HOST`` as it goes in a URL; a bare IPv6 gets brackets."""
    value = config.get("ENFORCE_HTTPS_HOST")
    if value is None:
        return None
    if value.count(":") > 1 and not value.startswith("["):
        value = f"[{value}]"
    return url_host(value)


def last_value(value: str | None) -> str | None:
    """The value the nearest proxy set: the last of a comma list."""
    if value is None:
        return None
    return value.rpartition(",")[2].strip() or None


def _host_and_port(value: str) -> tuple[str, int | None] | None:
    """A valid host value's host (as :func:`url_host` gives it) and port."""
    host = url_host(value)
    if host is None:
        return None
    port = value[value.rindex("]") + 1 :] if host.startswith("[") else value
    _, colon, digits = port.rpartition(":") if ":" in port else ("", "", "")
    return host, int(digits) if colon and digits else None


@dataclass(frozen=True)
class View:
    """How the client came, by the trusted-proxy rules of docs/proxies.rst.

    :param secure: Whether it used HTTPS.
    :param host: The host it asked for (``ENFORCE_HTTPS_HOST`` when the
        trusted proxy's hosts disagree).
    :param conflict: The trusted proxy's hosts disagree or one is invalid,
        and no ``ENFORCE_HTTPS_HOST`` settles it: a 400.
    """

    secure: bool
    host: str
    conflict: bool = False


def client_view(scenario: Scenario) -> View | None:
    """How the client came; ``None`` when a garbage ``Forwarded`` header
    from a trusted proxy leaves it unmodelled."""
    secure, host = scenario.scheme == "https", scenario.host
    proxies = scenario.settings.get("environment", {}).get("trusted_proxies", [])
    if not is_trusted(scenario.remote, proxies):
        return View(secure, host)
    headers = scenario.headers
    if headers.forwarded is None:
        return None
    schemes = []
    proto = last_value(headers.environ.get("HTTP_X_FORWARDED_PROTO"))
    if proto is not None:
        schemes.append(proto.lower())
    if "proto" in headers.forwarded:
        schemes.append(headers.forwarded["proto"].lower())
    if schemes:
        # The less secure wins.
        secure = all(scheme == "https" for scheme in schemes)
    hosts = [
        value
        for value in (
            last_value(headers.environ.get("HTTP_X_FORWARDED_HOST")),
            headers.forwarded.get("host"),
        )
        if value
    ]
    if not hosts:
        return View(secure, host)
    parsed = {_host_and_port(value) for value in hosts}
    if len(parsed) > 1 or None in parsed:
        # Neither counts: ENFORCE_HTTPS_HOST, else a 400.
        canonical = canonical_host(scenario.config)
        if canonical is None:
            return View(secure, host, conflict=True)
        return View(secure, canonical)
    return View(secure, hosts[0])


def needs_tls(
    data: t.Any, kind: Kind, level: HttpSecurity, path: str | None = None
) -> bool:
    """The precedence table of docs/overview.rst; on an exempt ``path``,
    only the design counts (an exempt path is exempt from what the
    administrator forced, never from the design)."""
    environment = data.get("environment", {})
    own = data.get("applications", {}).get(APPLICATION, {})
    if level.requires_tls:
        return True
    if path is not None and is_exempt(data, path):
        return False
    if kind.is_integration:
        return bool(
            environment.get("force_https_integrations")
            or own.get("force_https_integrations")
        )
    # hsts_max_age = 0 clears HSTS: it no longer forces screens.
    hsts = environment.get("hsts") and environment.get("hsts_max_age", 1) > 0
    return bool(
        hsts or environment.get("force_https_screens") or own.get("force_https_screens")
    )


def is_exempt(data: t.Any, path: str) -> bool:
    """``exempt_paths``: exact paths, and prefixes ending in "/" that never
    cover a path with "." or ".." segments."""
    paths = [
        *data.get("environment", {}).get("exempt_paths", []),
        *data.get("applications", {}).get(APPLICATION, {}).get("exempt_paths", []),
    ]
    dots = any(segment in (".", "..") for segment in path.split("/"))
    return any(
        path.startswith(exempt) and not dots if exempt.endswith("/") else path == exempt
        for exempt in paths
    )


def encoded_target(target: str) -> str:
    """The raw target with every byte outside ``URI_SAFE`` percent-encoded."""
    return "".join(char if char in URI_SAFE else f"%{ord(char):02X}" for char in target)


@dataclass(frozen=True)
class Outcome:
    """What the extension does with a request.

    :param status: The status of the response.
    :param location: The redirect target, for the extension's redirects.
    :param served: Whether the extension let the app answer.
    """

    status: int
    location: str | None = None
    served: bool = False


def expected_outcome(scenario: Scenario, route: Route) -> Outcome | None:
    """What the extension should do, or ``None`` when the model cannot say."""
    view = client_view(scenario)
    if view is None:
        return None
    secure, host = view.secure, view.host
    data = scenario.settings
    # A 405 takes the kind and level of its URL's endpoint
    # (docs/declarations.rst).
    kind, level = DESIGNS[route.url_endpoint]
    served = Outcome(route.status, served=True)
    if route.bad_host_redirect:
        # What the extension would serve is werkzeug's redirect to a bad Host.
        served = Outcome(400)
    if route.unroutable:
        return served  # Flask's 400 for a Host it cannot route
    if view.conflict:
        return Outcome(400)
    if not needs_tls(data, kind, level, route.path):
        return served
    if secure:
        if level is not CERT:
            return served
        proxies = data.get("environment", {}).get("trusted_proxies", [])
        verifies = scenario.headers.certificate_verifies and is_trusted(
            scenario.remote, proxies
        )
        return served if verifies else Outcome(403)
    if kind.is_integration:
        return Outcome(403)
    where = canonical_host(scenario.config) or url_host(host)
    if where is None:
        return Outcome(400)
    port = int(scenario.config["ENFORCE_HTTPS_PORT"])
    authority = where if port == 443 else f"{where}:{port}"
    code = 301 if route.method in SAFE_METHODS else 308
    return Outcome(code, f"https://{authority}{encoded_target(scenario.target)}")


def expected_hsts(scenario: Scenario, route: Route, outcome: Outcome) -> list[str]:
    """The ``Strict-Transport-Security`` values the response should carry."""
    if route.endpoint == "own_hsts" and route.method != "OPTIONS" and outcome.served:
        # The view sets its own header; the extension keeps it, over HTTPS
        # without adding a second, and over HTTP leaves it alone (it is the
        # app's, not the extension's: see test_hsts.py).
        return ["max-age=60"]
    view = client_view(scenario)
    assert view is not None
    secure, host = view.secure, view.host
    environment = scenario.settings.get("environment", {})
    if not secure or not environment.get("hsts"):
        return []
    excluded = {
        name.strip().lower().strip("[]")
        for name in environment.get("hsts_excluded_hosts", DEFAULT_EXCLUDED_HOSTS)
    }
    # Proxies that disagree on the host leave it unknown: no exclusion.
    name = None if view.conflict else url_host(host)
    if name is not None and name.strip("[]") in excluded:
        return []
    value = f"max-age={environment.get('hsts_max_age', 31536000)}"
    if environment.get("hsts_include_subdomains"):
        value += "; includeSubDomains"
    if environment.get("hsts_preload"):
        value += "; preload"
    return [value]


def split_location(location: str) -> tuple[str, str]:
    """Split an ``https://`` URL into its authority and its path and query."""
    assert location.startswith("https://"), location
    authority, slash, rest = location.removeprefix("https://").partition("/")
    assert slash, f"no path after the authority in {location!r}"
    return authority, slash + rest


def observed(response: TestResponse) -> tuple[int, list[str], list[str]]:
    """Status, Location values and HSTS values of a response."""
    return (
        response.status_code,
        response.headers.getlist("Location"),
        response.headers.getlist(HSTS),
    )


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------
# The model knows the app
# --------------------------------------------------------------------------


def test_the_model_knows_every_endpoint() -> None:
    app = create_app({})
    assert set(app.view_functions) == set(DESIGNS) - {None}


def test_the_generators_cover_the_schema() -> None:
    lists = {"exempt_paths", "hsts_excluded_hosts", "trusted_proxies"}
    assert {*ENVIRONMENT_BOOLEANS, "hsts_max_age", *lists} == ENVIRONMENT_KEYS
    assert {*APPLICATION_BOOLEANS, "secure_cookies", "exempt_paths"} == (
        APPLICATION_KEYS
    )


# --------------------------------------------------------------------------
# 1. Never a 5xx
# --------------------------------------------------------------------------


@settings(PROPERTY, max_examples=500)
@given(scenario=scenarios(garbage=True))
def test_never_a_server_error(scenario: Scenario) -> None:
    # An exception escaping the app, which a server answers with a 500, is
    # re-raised by the test client: it fails this test as well.
    response = respond(scenario)
    assert response.status_code < 500, response.get_data(as_text=True)
    locations = response.headers.getlist("Location")
    assert len(locations) <= 1
    assert len(response.headers.getlist(HSTS)) <= 1


# --------------------------------------------------------------------------
# 2. The Location goes to the allowed host and port
# --------------------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios())
def test_location_is_https_on_the_allowed_host_and_port(scenario: Scenario) -> None:
    route = route_of(scenario)
    expected = expected_outcome(scenario, route)
    assert expected is not None
    status, locations, _ = observed(respond(scenario))
    assert status == expected.status
    if expected.location is None:
        # Served by the app (whose own routing redirects, such as a missing
        # trailing slash, are Flask's), or refused without a Location.
        if not expected.served:
            assert locations == []
        return
    (location,) = locations
    authority, _ = split_location(location)
    assert authority == split_location(expected.location)[0]


# --------------------------------------------------------------------------
# 3. Path and query survive byte for byte
# --------------------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios(schemes=("http",), force_screens=True))
def test_location_keeps_the_path_and_query_byte_for_byte(scenario: Scenario) -> None:
    route = route_of(scenario)
    expected = expected_outcome(scenario, route)
    # Only redirects have a Location: integrations, exempt paths, trusted
    # proxies that say https and invalid hosts are not redirected.
    assume(expected is not None and expected.location is not None)
    status, locations, _ = observed(respond(scenario))
    assert 300 <= status < 400
    (location,) = locations
    _, target = split_location(location)
    if set(scenario.target) <= URI_SAFE:
        # Werkzeug may drop a trailing bare "?" (an empty query); nothing
        # else may change.
        bare = scenario.target.endswith("?") and scenario.target.count("?") == 1
        assert target == scenario.target or (bare and target == scenario.target[:-1])
    else:
        assert target == encoded_target(scenario.target)
    assert target.isascii()
    assert set(target) <= URI_SAFE


# --------------------------------------------------------------------------
# 4. HSTS: only over HTTPS, only when on and not excluded, never twice
# --------------------------------------------------------------------------


@PROPERTY
@given(
    scenario=st.one_of(
        scenarios(),
        # The view that sets its own header, the only way to get two.
        scenarios(paths=("/own-hsts",)),
    )
)
def test_hsts_only_over_https_when_on_and_never_twice(scenario: Scenario) -> None:
    route = route_of(scenario)
    expected = expected_outcome(scenario, route)
    assert expected is not None
    status, _, values = observed(respond(scenario))
    assert status == expected.status
    assert len(values) <= 1
    assert values == expected_hsts(scenario, route, expected)


# --------------------------------------------------------------------------
# 5. Forwarded headers from untrusted addresses change nothing
# --------------------------------------------------------------------------


@PROPERTY
@given(
    scenario=st.one_of(
        scenarios(trust="untrusted", garbage=True),
        # A client certificate header changes most on this endpoint.
        scenarios(trust="untrusted", garbage=True, paths=("/partner",)),
    )
)
def test_forwarded_headers_from_untrusted_addresses_change_nothing(
    scenario: Scenario,
) -> None:
    assume(scenario.headers.environ)
    with_headers = observed(respond(scenario))
    without = observed(respond(scenario, forwarded=False))
    assert with_headers == without


# --------------------------------------------------------------------------
# 6. Screens are redirected, integrations refused
# --------------------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios())
def test_only_screens_are_redirected_and_integrations_get_403(
    scenario: Scenario,
) -> None:
    route = route_of(scenario)
    expected = expected_outcome(scenario, route)
    assert expected is not None
    status, locations, _ = observed(respond(scenario))
    assert status == expected.status
    kind = DESIGNS[route.url_endpoint][0]
    if not expected.served and 300 <= status < 400:
        assert kind is SCREEN
        assert status == (301 if route.method in SAFE_METHODS else 308)
    if kind.is_integration and not expected.served:
        # 400 when the trusted proxy's hosts disagree, whatever the kind.
        view = client_view(scenario)
        assert view is not None
        assert status == (400 if view.conflict else 403)
        assert locations == []


#: The URLs of the integrations, and their endpoints.
INTEGRATION_URLS = {
    "/api/orders": "orders",
    "/api/status": "status",
    "/soap": "soap",
    "/soap/open": "soap_open",
    "/partner": "partner",
}


@PROPERTY
@given(scenario=scenarios(paths=tuple(INTEGRATION_URLS)))
def test_integration_urls_are_never_redirected_whatever_the_method(
    scenario: Scenario,
) -> None:
    # The same property for every request to an integration's URL, including
    # those Flask cannot route: a method the integration does not allow (a
    # 405) or a Host Flask refuses (400). The URL is still the integration's,
    # and its clients do not follow redirects.
    kind, level = DESIGNS[INTEGRATION_URLS[scenario.target.partition("?")[0]]]
    assert kind.is_integration
    route = route_of(scenario)
    status, locations, _ = observed(respond(scenario))
    assert not 300 <= status < 400, (status, locations, route)
    view = client_view(scenario)
    data = scenario.settings
    if view is not None and view.conflict:
        assert status == 400
    elif (
        view is not None
        and not view.secure
        and needs_tls(data, kind, level, route.path)
    ):
        assert locations == []
        if route.url_endpoint is None:
            # Flask could not route the request (a Host it refuses): a 400
            # refuses it as well.
            assert status in (400, 403)
        else:
            assert status == 403


# --------------------------------------------------------------------------
# 7. Settings validation
# --------------------------------------------------------------------------

SCHEMA_KEYS = st.sampled_from(
    sorted({"environment", "applications", APPLICATION, "blog", *ENVIRONMENT_KEYS})
)
KEYS = st.one_of(SCHEMA_KEYS, st.text(max_size=8))
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=10),
    st.sampled_from(
        [
            *("10.0.0.0/8", "10.0.0.1/8", "::1", "/healthz", "/a b", "localhost"),
            *("a/b", "", " ", "[", "[::1]", "300.0.0.1", "fe80::1%eth0"),
        ]
    ),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def corrupted_settings(draw: st.DrawFn) -> t.Any:
    """Valid settings with one value replaced, or one key added, anywhere."""
    data = draw(REMOTE_ADDRS.flatmap(settings_mappings))
    tables = [data, *(value for _, value in walk(data) if isinstance(value, dict))]
    table = draw(st.sampled_from(tables))  # changed in place, in ``data``
    if table and draw(st.booleans()):
        table[draw(st.sampled_from(sorted(table)))] = draw(JSON)
    else:
        table[draw(KEYS)] = draw(JSON)
    return data


def walk(
    data: object, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], t.Any]]:
    """Every key path in ``data``, and the value there."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = (*prefix, str(key))
            yield path, value
            yield from walk(value, path)


ALMOST_VALID = st.dictionaries(
    st.one_of(st.sampled_from(["environment", "applications"]), KEYS),
    st.one_of(
        st.dictionaries(KEYS, JSON, max_size=4),
        st.dictionaries(KEYS, st.dictionaries(KEYS, JSON, max_size=3), max_size=3),
        JSON,
    ),
    max_size=3,
)


def parse_or_refuse(data: object) -> Settings | SettingsError:
    """The parsed settings, or the ``SettingsError`` that refused them."""
    try:
        return parse_settings(data)
    except SettingsError as error:
        return error


def key_paths(data: object) -> set[str]:
    """Every dotted key path in ``data``, written as errors write them (a part
    that is not a bare name quoted and escaped)."""
    return {dotted_key(path) for path, _ in walk(data)}


@settings(max_examples=500, deadline=None)
@given(
    data=st.one_of(
        JSON,
        ALMOST_VALID,
        corrupted_settings(),
        REMOTE_ADDRS.flatmap(settings_mappings),
    )
)
def test_settings_are_parsed_or_refused_with_a_settings_error(data: t.Any) -> None:
    check_refusal(data)


def check_refusal(data: t.Any) -> None:
    """``data`` parses, or its ``SettingsError`` names one of its keys."""
    result = parse_or_refuse(data)  # any other exception fails the test
    if isinstance(result, Settings):
        return
    assert isinstance(result, SettingsError)
    assert result.problem
    if result.key == "" and not isinstance(data, Mapping):
        return  # a whole-document problem: the data is not a table at all
    # Otherwise the key is one of the data's own (a section may be named "").
    assert result.key in key_paths(data)
    assert result.key in str(result)


@pytest.mark.parametrize(
    ("section", "key"),
    [("environment", key) for key in sorted(ENVIRONMENT_KEYS)]
    + [("applications", key) for key in sorted(APPLICATION_KEYS)],
)
@settings(max_examples=40, deadline=None)
@given(value=st.one_of(LEAVES, JSON))
def test_any_value_of_each_setting_is_parsed_or_refused(
    section: str, key: str, value: t.Any
) -> None:
    # Every key of the schema, one at a time, with any value.
    table = {key: value}
    check_refusal(
        {section: table if section == "environment" else {APPLICATION: table}}
    )


# --------------------------------------------------------------------------
# 8. Overrides only tighten
# --------------------------------------------------------------------------

DESIGN_ORIGINS = ("view", "default", "blueprint 'account'")
#: Every kind at every level: "any endpoint".
ALL_DESIGNS = [Design(kind, level, "view") for kind in Kind for level in HttpSecurity]
#: Every boolean setting, for the environment and for two applications.
TRUE_OVERRIDES = [("environment", key) for key in ENVIRONMENT_BOOLEANS] + [
    ("applications", name, key)
    for name in (APPLICATION, "blog")
    for key in (*APPLICATION_BOOLEANS, "secure_cookies")
]


def with_override(data: t.Any, path: tuple[str, ...]) -> t.Any:
    """A copy of ``data`` with the boolean at ``path`` set to true."""
    tightened = copy.deepcopy(data)
    table = tightened
    for key in path[:-1]:
        table = table.setdefault(key, {})
    table[path[-1]] = True
    return tightened


@settings(max_examples=300, deadline=None)
@given(
    data=REMOTE_ADDRS.flatmap(settings_mappings),
    designs=st.lists(
        st.builds(
            Design,
            st.sampled_from(Kind),
            st.sampled_from(HttpSecurity),
            st.one_of(st.sampled_from(DESIGN_ORIGINS), st.text(max_size=8)),
        ),
        min_size=1,
        max_size=4,
    ),
    endpoint=st.one_of(st.none(), st.text(max_size=8)),
    application=st.sampled_from([APPLICATION, "blog", "other"]),
    override=st.sampled_from(sorted(TRUE_OVERRIDES)),
)
def test_overrides_never_lower_the_level(
    data: t.Any,
    designs: list[Design],
    endpoint: str | None,
    application: str,
    override: tuple[str, ...],
) -> None:
    before = parse_settings(data)
    after = parse_settings(with_override(data, override))
    for design in [*designs, *ALL_DESIGNS]:
        level = resolve(endpoint, design, before, application).effective
        assert level >= design.level
        tightened = resolve(endpoint, design, after, application).effective
        assert tightened >= level
        assert tightened >= design.level
