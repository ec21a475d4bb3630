"""One corpus of hostile request parts: raw targets, Host headers, request
heads and pieces of targets that try to move a redirect's host, split its
headers or break its path.

test_host_safety.py parametrizes over the tables (one id each, with the
Location or status each must get); test_properties.py samples from all of
them, with its model predicting the response.
"""

from __future__ import annotations

import typing as t

import pytest

#: Raw request targets (as a server puts them in ``REQUEST_URI``) that try to
#: move the host or add a header, each with the Location a forced-TLS screen
#: redirect gets on host ``localhost``.
TARGETS = [
    pytest.param("//evil.com", "https://localhost//evil.com", id="double-slash"),
    pytest.param(
        "//evil.com/secure",
        "https://localhost//evil.com/secure",
        id="double-slash-path",
    ),
    pytest.param("/\\evil.com", "https://localhost/%5Cevil.com", id="backslash"),
    pytest.param(
        "/\\\\evil.com", "https://localhost/%5C%5Cevil.com", id="two-backslashes"
    ),
    pytest.param(
        "/%5Cevil.com", "https://localhost/%5Cevil.com", id="encoded-backslash"
    ),
    pytest.param(
        "/%2F%2Fevil.com", "https://localhost/%2F%2Fevil.com", id="encoded-slashes"
    ),
    pytest.param(
        "/%0d%0aSet-Cookie:x=1",
        "https://localhost/%0d%0aSet-Cookie:x=1",
        id="encoded-crlf",
    ),
    pytest.param(
        "/\r\nSet-Cookie: x=1",
        "https://localhost/%0D%0ASet-Cookie:%20x=1",
        id="raw-crlf",
    ),
    pytest.param(
        "/a?\r\nSet-Cookie: x=1",
        "https://localhost/a?%0D%0ASet-Cookie:%20x=1",
        id="raw-crlf-in-query",
    ),
    pytest.param("/@evil.com", "https://localhost/@evil.com", id="at-sign"),
    pytest.param("/.evil.com", "https://localhost/.evil.com", id="dot"),
    pytest.param(
        "/secure#@evil.com", "https://localhost/secure%23@evil.com", id="fragment"
    ),
    pytest.param(
        "/\tevil .com", "https://localhost/%09evil%20.com", id="tab-and-space"
    ),
]

#: Host header values that are no host: each gets 400 and no Location.
INVALID_HOSTS = [
    pytest.param("", id="empty"),
    pytest.param("evil.com/x", id="slash"),
    pytest.param("evil.com\\x", id="backslash"),
    pytest.param("a@b", id="at-sign"),
    pytest.param("user@localhost", id="userinfo"),
    pytest.param("a b", id="space"),
    pytest.param(" localhost", id="leading-space"),
    pytest.param("localhost ", id="trailing-space"),
    pytest.param("a\tb", id="tab"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\x7fb", id="del"),
    pytest.param("a\r\nb", id="crlf"),
    pytest.param("::1", id="bare-ipv6"),
    pytest.param("localhost:99999", id="port-too-big"),
    pytest.param("localhost:0", id="port-zero"),
    pytest.param("localhost:-1", id="port-negative"),
    pytest.param("localhost:80x", id="port-not-digits"),
    pytest.param("localhost:8080:80", id="two-ports"),
    pytest.param("[::1", id="unclosed-bracket"),
    pytest.param("[::1]x", id="junk-after-bracket"),
    pytest.param("[not-ipv6]", id="bracketed-name"),
    pytest.param("[fe80::1%eth0]", id="ipv6-zone"),
    pytest.param("caf\xe9.com", id="non-ascii"),
    pytest.param("evil.com?x", id="question-mark"),
    pytest.param("evil.com#x", id="hash"),
    pytest.param("localhost,evil.com", id="comma"),
    pytest.param("a..b", id="empty-label"),
    pytest.param("-a.com", id="leading-hyphen"),
    pytest.param("a" * 64 + ".com", id="label-too-long"),
]

#: Raw request heads sent to a real server, each with the Location it gets
#: (or the Locations it may get, when the server rewrites the path first).
WIRE_TARGETS = [
    # Python's http.server (3.11, and security releases of older versions)
    # collapses the leading slashes before werkzeug sees the path; either
    # way the host stays put.
    pytest.param(
        b"GET //evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ("https://localhost//evil.com", "https://localhost/evil.com"),
        id="double-slash",
    ),
    pytest.param(
        b"GET //evil.com/secure?a=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        (
            "https://localhost//evil.com/secure?a=1",
            "https://localhost/evil.com/secure?a=1",
        ),
        id="double-slash-path-query",
    ),
    pytest.param(
        b"GET ///evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ("https://localhost///evil.com", "https://localhost/evil.com"),
        id="triple-slash",
    ),
    pytest.param(
        b"GET /\\evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%5Cevil.com",
        id="backslash",
    ),
    pytest.param(
        b"GET /%5Cevil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%5Cevil.com",
        id="encoded-backslash",
    ),
    pytest.param(
        b"GET /%0d%0aSet-Cookie:x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%0d%0aSet-Cookie:x=1",
        id="encoded-crlf",
    ),
    pytest.param(
        b"GET /?%0d%0aSet-Cookie:x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/?%0d%0aSet-Cookie:x=1",
        id="encoded-crlf-in-query",
    ),
    pytest.param(
        b"GET /@evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/@evil.com",
        id="at-sign",
    ),
    pytest.param(
        b"GET /account/%7Euser?q=a%2Fb&x=%25 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/account/%7Euser?q=a%2Fb&x=%25",
        id="percent-encoding",
    ),
    pytest.param(
        b"GET /secure HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
        "https://localhost/secure",
        id="host-with-port",
    ),
    pytest.param(
        b"HEAD /secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/secure",
        id="head",
    ),
    pytest.param(
        b"GET /secure HTTP/1.1\r\nHost: Localhost\r\n\r\n",
        "https://localhost/secure",
        id="uppercase-host",
    ),
]

#: Pieces of a request target that a property test appends to a path.
PIECES = (
    "//",
    "//evil.com",
    "\\",
    "/\\evil.com",
    "%2F",
    "%2f%2F",
    "%5C",
    "%0d%0a",
    "%0D%0ASet-Cookie:x=1",
    "\r\n",
    "#",
    " ",
    "[",
    "]",
    "%",
    "%zz",
    "%e9",
    "@evil.com",
    "..",
    "/../",
    "/./",
    "/%2e%2E/",
    ".",
    "\x00",
    "\x7f",
    "\xe9",
    "\xff",
    "caf\xc3\xa9",
    "?",
    "&",
    "=",
    '"',
    "<>",
)


def values(table: t.Iterable[t.Any]) -> list[t.Any]:
    """The first value of each ``pytest.param`` row of a table, without its
    id: what the property suite samples from."""
    return [row.values[0] for row in table]
