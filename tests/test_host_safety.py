"""The HTTPS redirect cannot be pointed elsewhere by the request.

The Location of the redirect goes to ``ENFORCE_HTTPS_HOST`` when it is set,
else to the request's own host, which must be a valid host name or IP literal
(and one of Flask's ``TRUSTED_HOSTS`` when they are set). A host that is not
gets 400 and no Location. Whatever the path holds (``//evil.com``,
backslashes, CR/LF, non-ASCII bytes), it never moves the Location's host,
never adds a header and never causes a 500.

The werkzeug test client parses ``//evil.com`` as a URL with host
``evil.com``, so raw paths go in through ``environ_overrides``; the same
attacks are also sent as raw bytes to werkzeug's real server on loopback.
"""

from __future__ import annotations

import re
import string
import typing as t

import pytest
from conftest import RawResponse, send_raw
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from flask_enforce_https import ConfigurationError
from flask_enforce_https.location import https_location

#: Characters a URI may hold (RFC 3986), "%" included: nothing else may
#: reach the Location header.
URI_CHARS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%\[\]]*")


@pytest.fixture
def settings() -> t.Any:
    """Every screen needs TLS here, so every screen path, matched or not
    (unmatched URLs are screens too), is redirected."""
    return {"environment": {"force_https_screens": True}}


def raw_target(target: str) -> dict[str, str]:
    """Return ``environ_overrides`` that put ``target`` in the environ as a
    server would, untouched by the test client's URL parsing."""
    path, _, query = target.partition("?")
    return {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": target,
        "REQUEST_URI": target,
    }


def location_host(location: str) -> str:
    """Return the authority of an ``https://`` URL, checking that the path
    starts right after it."""
    assert location.startswith("https://")
    rest = location[len("https://") :]
    authority, slash, _ = rest.partition("/")
    assert slash, f"no path after the authority in {location!r}"
    return authority


def assert_safe_response(status: int, locations: list[str]) -> None:
    """A redirect has exactly one safe Location; anything else has none."""
    assert status < 500
    if 300 <= status < 400:
        assert len(locations) == 1
        assert URI_CHARS.fullmatch(locations[0]), locations[0]
    else:
        assert 400 <= status < 500 or status < 300
        assert locations == []


# --------------------------------------------------------------------------
# Paths cannot move the host (test client, raw environ)
# --------------------------------------------------------------------------

HOSTILE_TARGETS = [
    ("//evil.com", "https://localhost//evil.com"),
    ("//evil.com/secure", "https://localhost//evil.com/secure"),
    ("/\\evil.com", "https://localhost/%5Cevil.com"),
    ("/\\\\evil.com", "https://localhost/%5C%5Cevil.com"),
    ("/%5Cevil.com", "https://localhost/%5Cevil.com"),
    ("/%2F%2Fevil.com", "https://localhost/%2F%2Fevil.com"),
    ("/%0d%0aSet-Cookie:x=1", "https://localhost/%0d%0aSet-Cookie:x=1"),
    ("/\r\nSet-Cookie: x=1", "https://localhost/%0D%0ASet-Cookie:%20x=1"),
    ("/a?\r\nSet-Cookie: x=1", "https://localhost/a?%0D%0ASet-Cookie:%20x=1"),
    ("/@evil.com", "https://localhost/@evil.com"),
    ("/.evil.com", "https://localhost/.evil.com"),
    ("/secure#@evil.com", "https://localhost/secure%23@evil.com"),
    ("/\tevil .com", "https://localhost/%09evil%20.com"),
]


@pytest.mark.parametrize(
    ("target", "expected"),
    HOSTILE_TARGETS,
    ids=[
        "double-slash",
        "double-slash-path",
        "backslash",
        "two-backslashes",
        "encoded-backslash",
        "encoded-slashes",
        "encoded-crlf",
        "raw-crlf",
        "raw-crlf-in-query",
        "at-sign",
        "dot",
        "fragment",
        "tab-and-space",
    ],
)
def test_path_never_moves_the_host(
    client: FlaskClient, target: str, expected: str
) -> None:
    response = client.get("/", environ_overrides=raw_target(target))
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]
    assert location_host(expected) == "localhost"
    assert "Set-Cookie" not in response.headers
    assert_safe_response(response.status_code, response.headers.getlist("Location"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/caf\xc3\xa9", "https://localhost/caf%C3%A9"),
        ("/\xe9", "https://localhost/%E9"),
        ("/\x00\x7f\xff", "https://localhost/%00%7F%FF"),
        ("/a?q=\xc3\xa9", "https://localhost/a?q=%C3%A9"),
    ],
    ids=["utf-8-bytes", "latin-1-byte", "control-bytes", "non-ascii-query"],
)
def test_non_ascii_bytes_are_percent_encoded(
    client: FlaskClient, raw: str, expected: str
) -> None:
    # PEP 3333: the environ carries the raw bytes as latin-1 strings.
    response = client.get("/", environ_overrides=raw_target(raw))
    assert response.status_code == 301
    assert response.headers["Location"] == expected
    assert response.headers["Location"].isascii()


@pytest.mark.parametrize(
    ("raw", "path_info", "query", "expected"),
    [
        (
            "http://evil.com/secure?a=1",
            "/secure",
            "a=1",
            "https://localhost/secure?a=1",
        ),
        (
            "http://evil.com/a%2Fb?x=%25",
            "/a/b",
            "x=%25",
            "https://localhost/a%2Fb?x=%25",
        ),
        ("HTTPS://evil.com//x", "//x", "", "https://localhost//x"),
        ("http://evil.com", "/", "", "https://localhost/"),
        ("http://evil.com?x=1", "/", "x=1", "https://localhost/?x=1"),
        ("http://a@evil.com:80/x", "/x", "", "https://localhost/x"),
        ("http://evil.com\\@localhost/x", "/x", "", "https://localhost/x"),
    ],
    ids=[
        "path-and-query",
        "percent-encoding",
        "uppercase-scheme-double-slash",
        "no-path",
        "query-only",
        "userinfo-and-port",
        "backslash-in-authority",
    ],
)
def test_absolute_form_raw_uri_never_adds_its_host(
    client: FlaskClient, raw: str, path_info: str, query: str, expected: str
) -> None:
    # The authority of an absolute-form target is never pasted after the
    # host; its path and query are kept as sent.
    response = client.get(
        "/",
        environ_overrides={
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "RAW_URI": raw,
            "REQUEST_URI": raw,
        },
    )
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


# --------------------------------------------------------------------------
# Percent-encoding survives byte for byte
# --------------------------------------------------------------------------


def test_percent_encoding_survives_through_the_test_client(
    client: FlaskClient,
) -> None:
    response = client.get("/account/%7Euser?q=a%2Fb&x=%25")
    assert response.status_code == 301
    assert (
        response.headers["Location"]
        == "https://localhost/account/%7Euser?q=a%2Fb&x=%25"
    )


def test_query_falls_back_to_query_string_when_raw_uri_lacks_it(
    client: FlaskClient,
) -> None:
    # Some clients (werkzeug's test client among them) leave the query out
    # of RAW_URI; it then comes from QUERY_STRING, still undecoded.
    response = client.get(
        "/",
        environ_overrides={
            "PATH_INFO": "/account/~user",
            "QUERY_STRING": "q=a%2Fb&x=%25",
            "RAW_URI": "/account/%7Euser",
            "REQUEST_URI": "/account/%7Euser",
        },
    )
    assert response.status_code == 301
    assert (
        response.headers["Location"]
        == "https://localhost/account/%7Euser?q=a%2Fb&x=%25"
    )


def test_without_raw_uri_the_target_is_rebuilt_safely(client: FlaskClient) -> None:
    response = client.get(
        "/",
        environ_overrides={
            "PATH_INFO": "//evil.com/\\x y",
            "QUERY_STRING": "q=1",
            "RAW_URI": "",
            "REQUEST_URI": "",
        },
    )
    assert response.status_code == 301
    location = response.headers["Location"]
    assert location_host(location) == "localhost"
    assert location == "https://localhost//evil.com/%5Cx%20y?q=1"


# --------------------------------------------------------------------------
# The Host header
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "",
        "evil.com/x",
        "evil.com\\x",
        "a@b",
        "user@localhost",
        "a b",
        " localhost",
        "localhost ",
        "a\tb",
        "a\x00b",
        "a\x7fb",
        "a\r\nb",
        "::1",
        "localhost:99999",
        "localhost:0",
        "localhost:-1",
        "localhost:80x",
        "localhost:8080:80",
        "[::1",
        "[::1]x",
        "[not-ipv6]",
        "[fe80::1%eth0]",
        "caf\xe9.com",
        "evil.com?x",
        "evil.com#x",
        "localhost,evil.com",
        "a..b",
        "-a.com",
        "a" * 64 + ".com",
    ],
    ids=[
        "empty",
        "slash",
        "backslash",
        "at-sign",
        "userinfo",
        "space",
        "leading-space",
        "trailing-space",
        "tab",
        "nul",
        "del",
        "crlf",
        "bare-ipv6",
        "port-too-big",
        "port-zero",
        "port-negative",
        "port-not-digits",
        "two-ports",
        "unclosed-bracket",
        "junk-after-bracket",
        "bracketed-name",
        "ipv6-zone",
        "non-ascii",
        "question-mark",
        "hash",
        "comma",
        "empty-label",
        "leading-hyphen",
        "label-too-long",
    ],
)
@pytest.mark.parametrize("path", ["/secure", "/account/"], ids=["secure", "account"])
def test_invalid_host_is_400_without_location(
    client: FlaskClient, host: str, path: str
) -> None:
    response = client.get(path, environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_missing_host_is_400_without_location(app: Flask) -> None:
    environ = EnvironBuilder(path="/secure").get_environ()
    del environ["HTTP_HOST"]
    _, status, headers = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("400 ")
    assert "Location" not in headers


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", "https://localhost/secure"),
        ("Example.COM", "https://example.com/secure"),
        ("example.com:8080", "https://example.com/secure"),
        ("127.0.0.1:5000", "https://127.0.0.1/secure"),
        ("[::1]:8080", "https://[::1]/secure"),
        ("[::1]", "https://[::1]/secure"),
        ("[2001:DB8::1]", "https://[2001:db8::1]/secure"),
        ("xn--caf-dma.example", "https://xn--caf-dma.example/secure"),
    ],
    ids=[
        "localhost",
        "uppercase",
        "http-port-dropped",
        "ipv4-with-port",
        "ipv6-with-port",
        "ipv6",
        "ipv6-uppercase",
        "punycode",
    ],
)
def test_valid_host_is_the_redirect_host(
    client: FlaskClient, host: str, expected: str
) -> None:
    response = client.get("/secure", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


@pytest.mark.parametrize("config", [{"ENFORCE_HTTPS_PORT": 8443}], ids=["port-8443"])
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("[::1]:8080", "https://[::1]:8443/account/"),
        ("localhost:8080", "https://localhost:8443/account/"),
    ],
    ids=["ipv6", "name"],
)
def test_https_port_goes_in_the_location(
    client: FlaskClient, host: str, expected: str
) -> None:
    response = client.get("/account/", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    "config", [{"ENFORCE_HTTPS_HOST": "www.example.com"}], ids=["canonical"]
)
@pytest.mark.parametrize(
    "host",
    ["evil.com", "evil.com:8080", "a@b", "evil.com/x", "", "[::1]", "localhost"],
    ids=["evil", "evil-port", "at-sign", "slash", "empty", "ipv6", "localhost"],
)
def test_canonical_host_wins_over_the_host_header(
    client: FlaskClient, host: str
) -> None:
    response = client.get(
        "/",
        environ_overrides={"HTTP_HOST": host, **raw_target("//evil.com/secure?a=1")},
    )
    assert response.status_code == 301
    location = response.headers["Location"]
    assert location_host(location) == "www.example.com"
    assert location == "https://www.example.com//evil.com/secure?a=1"


@pytest.mark.parametrize(
    "config",
    [{"ENFORCE_HTTPS_HOST": "www.example.com", "ENFORCE_HTTPS_PORT": 8443}],
    ids=["canonical-port"],
)
def test_canonical_host_with_port(client: FlaskClient) -> None:
    response = client.get("/secure", headers={"Host": "evil.com"})
    assert response.headers["Location"] == "https://www.example.com:8443/secure"


@pytest.mark.parametrize(
    "config",
    [{"ENFORCE_HTTPS_HOST": "::1"}, {"ENFORCE_HTTPS_HOST": "[::1]"}],
    ids=["bare", "bracketed"],
)
def test_canonical_ipv6_host(client: FlaskClient) -> None:
    response = client.get("/secure", headers={"Host": "evil.com"})
    assert response.headers["Location"] == "https://[::1]/secure"


@pytest.mark.parametrize(
    "config", [{"TRUSTED_HOSTS": ["example.com"]}], ids=["trusted-hosts"]
)
@pytest.mark.parametrize(
    "host",
    ["evil.com", "example.com.evil.com", "evil.com:443", "a@b", ""],
    ids=["evil", "suffix", "evil-port", "at-sign", "empty"],
)
@pytest.mark.parametrize("path", ["/secure", "/account/", "/nowhere"])
def test_untrusted_host_is_refused(client: FlaskClient, host: str, path: str) -> None:
    # Flask itself may refuse the host with 400 before our hook runs; either
    # way there is no Location and no 500.
    response = client.get(path, environ_overrides={"HTTP_HOST": host})
    assert 400 <= response.status_code < 500
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "config", [{"TRUSTED_HOSTS": ["example.com"]}], ids=["trusted-hosts"]
)
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "https://example.com/secure"),
        ("example.com:8080", "https://example.com/secure"),
    ],
    ids=["plain", "port"],
)
def test_trusted_host_is_redirected(
    client: FlaskClient, host: str, expected: str
) -> None:
    response = client.get("/secure", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


@pytest.mark.parametrize(
    "config",
    [
        {"ENFORCE_HTTPS_HOST": value}
        for value in (
            "example.com:8443",
            "https://example.com",
            "example.com/path",
            "example.com/",
            "user@example.com",
            "example .com",
            "",
            "[::1]:8443",
            42,
        )
    ],
    ids=[
        "port",
        "scheme",
        "path",
        "trailing-slash",
        "userinfo",
        "space",
        "empty",
        "ipv6-port",
        "not-a-string",
    ],
)
def test_invalid_canonical_host_is_a_configuration_error(
    request: pytest.FixtureRequest, config: dict[str, t.Any]
) -> None:
    # The app fixture runs create_app, and so init_app.
    with pytest.raises(ConfigurationError, match="ENFORCE_HTTPS_HOST") as caught:
        request.getfixturevalue("app")
    assert caught.value.key == "ENFORCE_HTTPS_HOST"
    assert str(config["ENFORCE_HTTPS_HOST"]) in str(caught.value)


@pytest.mark.parametrize(
    ("host", "canonical", "port", "trusted_hosts", "expected"),
    [
        ("evil.com", None, 443, ["example.com"], None),
        ("example.com.evil.com", None, 443, ["example.com"], None),
        ("example.com:8080", None, 443, ["example.com"], "https://example.com/x?y"),
        (
            "shop.example.com",
            None,
            443,
            [".example.com"],
            "https://shop.example.com/x?y",
        ),
        (
            "evil.com",
            "www.example.com",
            443,
            ["example.com"],
            "https://www.example.com/x?y",
        ),
        ("a@b", "www.example.com", 443, None, "https://www.example.com/x?y"),
        ("a@b", None, 443, None, None),
        ("", None, 443, None, None),
        (None, None, 443, None, None),
        ("[::1]:80", None, 8443, None, "https://[::1]:8443/x?y"),
        ("localhost", None, 443, [], "https://localhost/x?y"),
    ],
    ids=[
        "untrusted",
        "untrusted-suffix",
        "trusted",
        "trusted-subdomain",
        "canonical-wins",
        "canonical-wins-over-invalid",
        "invalid",
        "empty",
        "missing",
        "ipv6-port",
        "empty-trusted-list",
    ],
)
def test_https_location(
    host: str | None,
    canonical: str | None,
    port: int,
    trusted_hosts: list[str] | None,
    expected: str | None,
) -> None:
    # Flask refuses untrusted hosts itself too; this checks our own guard.
    environ = {"PATH_INFO": "/x", "QUERY_STRING": "y", "RAW_URI": "/x?y"}
    assert https_location(environ, host, canonical, port, trusted_hosts) == expected


# --------------------------------------------------------------------------
# Property: no Host and no path can produce a 5xx or move the Location
# --------------------------------------------------------------------------

_VALID_HOSTS = st.one_of(
    st.from_regex(
        r"[a-zA-Z0-9]{1,10}(\.[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True
    ),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
HOSTS = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=30),
    _VALID_HOSTS,
    st.tuples(_VALID_HOSTS, st.integers(-10, 100_000)).map(
        lambda hp: f"{hp[0]}:{hp[1]}"
    ),
    st.tuples(_VALID_HOSTS, st.sampled_from("/\\@ ?#,\r\n\x00")).map("".join),
)
PATHS = st.tuples(
    st.sampled_from(
        ["/", "//", "/\\", "", "/account/", "/secure", "http://evil.com", "HTTP://"]
    ),
    st.text(alphabet=string.printable + "/\\%@:\x00\x7f\xe9\xff", max_size=40),
).map("".join)


def _expected_host(host: str) -> str:
    if host.startswith("["):
        return host[: host.index("]") + 1].lower()
    return host.partition(":")[0].lower()


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    # The app is never changed by a request, so sharing it between examples
    # is safe.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(host=HOSTS, path=PATHS)
def test_no_host_or_path_moves_the_location(
    client: FlaskClient, host: str, path: str
) -> None:
    overrides = {"HTTP_HOST": host, **raw_target(path)}
    response = client.get("/", environ_overrides=overrides)
    locations = response.headers.getlist("Location")
    assert_safe_response(response.status_code, locations)
    assert "Set-Cookie" not in response.headers
    for location in locations:
        authority = location_host(location)
        assert authority in ("localhost", _expected_host(host))
        assert re.fullmatch(r"[a-z0-9._\-]+|\[[0-9a-f:.]+\]", authority)


@pytest.mark.parametrize(
    "config", [{"ENFORCE_HTTPS_HOST": "www.example.com"}], ids=["canonical"]
)
@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(host=HOSTS, path=PATHS)
def test_no_host_or_path_moves_the_canonical_location(
    client: FlaskClient, host: str, path: str
) -> None:
    overrides = {"HTTP_HOST": host, **raw_target(path)}
    response = client.get("/", environ_overrides=overrides)
    locations = response.headers.getlist("Location")
    assert_safe_response(response.status_code, locations)
    for location in locations:
        assert location_host(location) == "www.example.com"


# --------------------------------------------------------------------------
# The same over a real socket, through werkzeug's server
# --------------------------------------------------------------------------


def assert_safe_over_the_wire(response: RawResponse) -> None:
    """3xx to https://localhost/ or 4xx without Location; one Location at most,
    no Set-Cookie, nothing but ASCII in the head."""
    locations = response.get_all("Location")
    assert response.status < 500
    assert response.head.isascii()
    assert response.get_all("Set-Cookie") == []
    if 300 <= response.status < 400:
        assert len(locations) == 1
        assert locations[0].startswith("https://localhost/")
        assert URI_CHARS.fullmatch(locations[0])
    else:
        assert 400 <= response.status < 500
        assert locations == []


WIRE_ATTACKS = [
    # Python's http.server (3.11, and security releases of older versions)
    # collapses the leading slashes before werkzeug sees the path; either
    # way the host stays put.
    (
        b"GET //evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ("https://localhost//evil.com", "https://localhost/evil.com"),
    ),
    (
        b"GET //evil.com/secure?a=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        (
            "https://localhost//evil.com/secure?a=1",
            "https://localhost/evil.com/secure?a=1",
        ),
    ),
    (
        b"GET ///evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ("https://localhost///evil.com", "https://localhost/evil.com"),
    ),
    (
        b"GET /\\evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%5Cevil.com",
    ),
    (
        b"GET /%5Cevil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%5Cevil.com",
    ),
    (
        b"GET /%0d%0aSet-Cookie:x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/%0d%0aSet-Cookie:x=1",
    ),
    (
        b"GET /?%0d%0aSet-Cookie:x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/?%0d%0aSet-Cookie:x=1",
    ),
    (
        b"GET /@evil.com HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/@evil.com",
    ),
    (
        b"GET /account/%7Euser?q=a%2Fb&x=%25 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "https://localhost/account/%7Euser?q=a%2Fb&x=%25",
    ),
    (
        b"GET /secure HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
        "https://localhost/secure",
    ),
    (b"HEAD /secure HTTP/1.1\r\nHost: localhost\r\n\r\n", "https://localhost/secure"),
    (b"GET /secure HTTP/1.1\r\nHost: Localhost\r\n\r\n", "https://localhost/secure"),
]


@pytest.mark.parametrize(
    ("request_head", "expected"),
    WIRE_ATTACKS,
    ids=[
        "double-slash",
        "double-slash-path-query",
        "triple-slash",
        "backslash",
        "encoded-backslash",
        "encoded-crlf",
        "encoded-crlf-in-query",
        "at-sign",
        "percent-encoding",
        "host-with-port",
        "head",
        "uppercase-host",
    ],
)
def test_raw_path_over_the_wire(
    port: int, request_head: bytes, expected: str | tuple[str, ...]
) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.status == 301
    (location,) = response.get_all("Location")
    assert location in ((expected,) if isinstance(expected, str) else expected)


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /\tx HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost localhost\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: local\x00host\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: localhost\r\n Set-Cookie: x=1\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: localhost\nSet-Cookie: x=1\r\n\r\n",
        b"GET secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET evil.com:443 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ],
    ids=[
        "raw-tab",
        "raw-space",
        "raw-nul",
        "header-without-colon",
        "nul-in-host",
        "folded-header",
        "bare-lf",
        "relative-target",
        "asterisk-form",
        "authority-form",
    ],
)
def test_malformed_request_over_the_wire(port: int, request_head: bytes) -> None:
    # The server may refuse these itself; whoever answers, the answer is safe.
    assert_safe_over_the_wire(send_raw(port, request_head))


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /\xe9\xff HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /a?q=\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ],
    ids=["utf-8", "latin-1", "query"],
)
def test_non_ascii_bytes_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.status == 301
    (location,) = response.get_all("Location")
    assert "%" in location
    assert location.isascii()


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /secure HTTP/1.1\r\nHost: evil.com/x\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: evil.com\\x\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: a@b\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: \r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: a b\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: caf\xc3\xa9.com\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: localhost:99999\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: ::1\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\n\r\n",
        b"GET /secure HTTP/1.1\r\n\r\n",
        b"GET /secure HTTP/1.0\r\n\r\n",
        b"GET //evil.com HTTP/1.1\r\nHost: a@b\r\n\r\n",
    ],
    ids=[
        "slash",
        "backslash",
        "at-sign",
        "empty",
        "space",
        "control",
        "non-ascii",
        "port-too-big",
        "bare-ipv6",
        "two-hosts",
        "no-host",
        "http-1.0-no-host",
        "bad-host-and-path",
    ],
)
def test_bad_host_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.status == 400


def test_ipv6_host_over_the_wire(port: int) -> None:
    response = send_raw(port, b"GET /secure HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
    assert response.status == 301
    assert response.get_all("Location") == ["https://[::1]/secure"]


def test_absolute_form_over_the_wire(port: int) -> None:
    # RFC 9112 section 3.2.2: with an absolute-form target the server must
    # ignore Host and use the target's authority, and werkzeug's server does
    # (it sets HTTP_HOST to evil.com). So this is the same as sending
    # ``Host: evil.com``: a valid host the client chose itself, which only
    # TRUSTED_HOSTS or ENFORCE_HTTPS_HOST restrict (tests below). What the
    # absolute form must never do is end up pasted after the host.
    response = send_raw(
        port, b"GET http://evil.com/secure HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    assert response.status == 301
    assert response.get_all("Location") == ["https://evil.com/secure"]
    assert response.get_all("Set-Cookie") == []


@pytest.mark.parametrize(
    "config", [{"TRUSTED_HOSTS": ["localhost"]}], ids=["trusted-hosts"]
)
@pytest.mark.parametrize(
    "request_head",
    [
        b"GET http://evil.com/secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: evil.com\r\n\r\n",
        b"GET //evil.com HTTP/1.1\r\nHost: evil.com\r\n\r\n",
    ],
    ids=["absolute-form", "host", "host-and-path"],
)
def test_untrusted_host_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.status == 400


@pytest.mark.parametrize(
    "config", [{"TRUSTED_HOSTS": ["localhost"]}], ids=["trusted-hosts"]
)
def test_trusted_host_over_the_wire(port: int) -> None:
    response = send_raw(
        port, b"GET http://localhost/secure?a=1 HTTP/1.1\r\nHost: evil.com\r\n\r\n"
    )
    assert_safe_over_the_wire(response)
    assert response.get_all("Location") == ["https://localhost/secure?a=1"]


def test_absolute_form_keeps_percent_encoding_over_the_wire(port: int) -> None:
    # Byte for byte, as in origin form: %2F decoded to "/" would name
    # another resource.
    response = send_raw(
        port,
        b"GET http://localhost/account/%7Euser/a%2Fb?q=a%2Fb&x=%25 HTTP/1.1\r\n"
        b"Host: localhost\r\n\r\n",
    )
    assert_safe_over_the_wire(response)
    assert response.get_all("Location") == [
        "https://localhost/account/%7Euser/a%2Fb?q=a%2Fb&x=%25"
    ]


@pytest.mark.parametrize(
    "config", [{"ENFORCE_HTTPS_HOST": "localhost"}], ids=["canonical"]
)
@pytest.mark.parametrize(
    "request_head",
    [
        b"GET http://evil.com/secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: evil.com\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: a@b\r\n\r\n",
        b"GET /secure HTTP/1.1\r\nHost: \r\n\r\n",
    ],
    ids=["absolute-form", "host", "at-sign", "empty"],
)
def test_canonical_host_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.get_all("Location") == ["https://localhost/secure"]
