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

import attacks
import pytest
from conftest import RawResponse, marked_settings, send_raw
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
def settings(request: pytest.FixtureRequest) -> t.Any:
    """Every screen needs TLS here, so every screen path, matched or not
    (unmatched URLs are screens too), is redirected."""
    return marked_settings(request, {"environment": {"force_https_screens": True}})


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


@pytest.mark.parametrize(
    ("target", "expected"),
    attacks.TARGETS,
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
        pytest.param("/caf\xc3\xa9", "https://localhost/caf%C3%A9", id="utf-8-bytes"),
        pytest.param("/\xe9", "https://localhost/%E9", id="latin-1-byte"),
        pytest.param(
            "/\x00\x7f\xff", "https://localhost/%00%7F%FF", id="control-bytes"
        ),
        pytest.param(
            "/a?q=\xc3\xa9", "https://localhost/a?q=%C3%A9", id="non-ascii-query"
        ),
    ],
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
        pytest.param(
            "http://evil.com/secure?a=1",
            "/secure",
            "a=1",
            "https://localhost/secure?a=1",
            id="path-and-query",
        ),
        pytest.param(
            "http://evil.com/a%2Fb?x=%25",
            "/a/b",
            "x=%25",
            "https://localhost/a%2Fb?x=%25",
            id="percent-encoding",
        ),
        pytest.param(
            "HTTPS://evil.com//x",
            "//x",
            "",
            "https://localhost//x",
            id="uppercase-scheme-double-slash",
        ),
        pytest.param("http://evil.com", "/", "", "https://localhost/", id="no-path"),
        pytest.param(
            "http://evil.com?x=1", "/", "x=1", "https://localhost/?x=1", id="query-only"
        ),
        pytest.param(
            "http://a@evil.com:80/x",
            "/x",
            "",
            "https://localhost/x",
            id="userinfo-and-port",
        ),
        pytest.param(
            "http://evil.com\\@localhost/x",
            "/x",
            "",
            "https://localhost/x",
            id="backslash-in-authority",
        ),
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
    attacks.INVALID_HOSTS,
)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/secure", id="secure"),
        pytest.param("/account/", id="account"),
    ],
)
def test_invalid_host_is_400_without_location(
    client: FlaskClient, host: str, path: str
) -> None:
    response = client.get(path, environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("host", attacks.INVALID_HOSTS)
@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("https://localhost", id="https"),
        pytest.param("http://localhost", id="http"),
    ],
)
def test_werkzeugs_slash_redirect_to_an_invalid_host_is_400(
    client: FlaskClient, host: str, base_url: str
) -> None:
    # /account lacks the slash of /account/: werkzeug's own redirect builds
    # its Location from the Host, which would misdirect it (or, before
    # werkzeug 3.1.9, make it a 500 for a port out of range).
    response = client.get(
        "/account", base_url=base_url, environ_overrides={"HTTP_HOST": host}
    )
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
        pytest.param("localhost", "https://localhost/secure", id="localhost"),
        pytest.param("Example.COM", "https://example.com/secure", id="uppercase"),
        pytest.param(
            "example.com:8080", "https://example.com/secure", id="http-port-dropped"
        ),
        pytest.param("127.0.0.1:5000", "https://127.0.0.1/secure", id="ipv4-with-port"),
        pytest.param("[::1]:8080", "https://[::1]/secure", id="ipv6-with-port"),
        pytest.param("[::1]", "https://[::1]/secure", id="ipv6"),
        pytest.param(
            "[2001:DB8::1]", "https://[2001:db8::1]/secure", id="ipv6-uppercase"
        ),
        pytest.param(
            "xn--caf-dma.example", "https://xn--caf-dma.example/secure", id="punycode"
        ),
    ],
)
def test_valid_host_is_the_redirect_host(
    client: FlaskClient, host: str, expected: str
) -> None:
    response = client.get("/secure", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers.getlist("Location") == [expected]


@pytest.mark.config(ENFORCE_HTTPS_PORT=8443)
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("[::1]:8080", "https://[::1]:8443/account/", id="ipv6"),
        pytest.param("localhost:8080", "https://localhost:8443/account/", id="name"),
    ],
)
def test_https_port_goes_in_the_location(
    client: FlaskClient, host: str, expected: str
) -> None:
    response = client.get("/account/", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers["Location"] == expected


@pytest.mark.config(ENFORCE_HTTPS_HOST="www.example.com")
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("evil.com", id="evil"),
        pytest.param("evil.com:8080", id="evil-port"),
        pytest.param("a@b", id="at-sign"),
        pytest.param("evil.com/x", id="slash"),
        pytest.param("", id="empty"),
        pytest.param("[::1]", id="ipv6"),
        pytest.param("localhost", id="localhost"),
    ],
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


@pytest.mark.config(ENFORCE_HTTPS_HOST="www.example.com", ENFORCE_HTTPS_PORT=8443)
def test_canonical_host_with_port(client: FlaskClient) -> None:
    response = client.get("/secure", headers={"Host": "evil.com"})
    assert response.headers["Location"] == "https://www.example.com:8443/secure"


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"ENFORCE_HTTPS_HOST": "::1"}, id="bare"),
        pytest.param({"ENFORCE_HTTPS_HOST": "[::1]"}, id="bracketed"),
    ],
)
def test_canonical_ipv6_host(client: FlaskClient) -> None:
    response = client.get("/secure", headers={"Host": "evil.com"})
    assert response.headers["Location"] == "https://[::1]/secure"


@pytest.mark.config(TRUSTED_HOSTS=["example.com"])
@pytest.mark.parametrize(
    "host",
    [
        pytest.param("evil.com", id="evil"),
        pytest.param("example.com.evil.com", id="suffix"),
        pytest.param("evil.com:443", id="evil-port"),
        pytest.param("a@b", id="at-sign"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize("path", ["/secure", "/account/", "/nowhere"])
def test_untrusted_host_is_refused(client: FlaskClient, host: str, path: str) -> None:
    # Flask itself may refuse the host with 400 before our hook runs; either
    # way there is no Location and no 500.
    response = client.get(path, environ_overrides={"HTTP_HOST": host})
    assert 400 <= response.status_code < 500
    assert "Location" not in response.headers


@pytest.mark.config(TRUSTED_HOSTS=["example.com"])
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("example.com", "https://example.com/secure", id="plain"),
        pytest.param("example.com:8080", "https://example.com/secure", id="port"),
    ],
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
        pytest.param({"ENFORCE_HTTPS_HOST": "example.com:8443"}, id="port"),
        pytest.param({"ENFORCE_HTTPS_HOST": "https://example.com"}, id="scheme"),
        pytest.param({"ENFORCE_HTTPS_HOST": "example.com/path"}, id="path"),
        pytest.param({"ENFORCE_HTTPS_HOST": "example.com/"}, id="trailing-slash"),
        pytest.param({"ENFORCE_HTTPS_HOST": "user@example.com"}, id="userinfo"),
        pytest.param({"ENFORCE_HTTPS_HOST": "example .com"}, id="space"),
        pytest.param({"ENFORCE_HTTPS_HOST": ""}, id="empty"),
        pytest.param({"ENFORCE_HTTPS_HOST": "[::1]:8443"}, id="ipv6-port"),
        pytest.param({"ENFORCE_HTTPS_HOST": 42}, id="not-a-string"),
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
        pytest.param("evil.com", None, 443, ["example.com"], None, id="untrusted"),
        pytest.param(
            "example.com.evil.com",
            None,
            443,
            ["example.com"],
            None,
            id="untrusted-suffix",
        ),
        pytest.param(
            "example.com:8080",
            None,
            443,
            ["example.com"],
            "https://example.com/x?y",
            id="trusted",
        ),
        pytest.param(
            "shop.example.com",
            None,
            443,
            [".example.com"],
            "https://shop.example.com/x?y",
            id="trusted-subdomain",
        ),
        pytest.param(
            "evil.com",
            "www.example.com",
            443,
            ["example.com"],
            "https://www.example.com/x?y",
            id="canonical-wins",
        ),
        pytest.param(
            "a@b",
            "www.example.com",
            443,
            None,
            "https://www.example.com/x?y",
            id="canonical-wins-over-invalid",
        ),
        pytest.param("a@b", None, 443, None, None, id="invalid"),
        pytest.param("", None, 443, None, None, id="empty"),
        pytest.param(None, None, 443, None, None, id="missing"),
        pytest.param(
            "[::1]:80", None, 8443, None, "https://[::1]:8443/x?y", id="ipv6-port"
        ),
        pytest.param(
            "localhost", None, 443, [], "https://localhost/x?y", id="empty-trusted-list"
        ),
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
    st.sampled_from(attacks.values(attacks.INVALID_HOSTS)),
)
PATHS = st.tuples(
    st.sampled_from(
        [
            *("/", "//", "/\\", "", "/account/", "/secure", "http://evil.com"),
            *("HTTP://", *attacks.PIECES, *attacks.values(attacks.TARGETS)),
        ]
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


@pytest.mark.config(ENFORCE_HTTPS_HOST="www.example.com")
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


@pytest.mark.parametrize(
    ("request_head", "expected"),
    attacks.WIRE_TARGETS,
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
        pytest.param(b"GET /\tx HTTP/1.1\r\nHost: localhost\r\n\r\n", id="raw-tab"),
        pytest.param(b"GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n", id="raw-space"),
        pytest.param(b"GET /\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n", id="raw-nul"),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost localhost\r\n\r\n", id="header-without-colon"
        ),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: local\x00host\r\n\r\n", id="nul-in-host"
        ),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: localhost\r\n Set-Cookie: x=1\r\n\r\n",
            id="folded-header",
        ),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: localhost\nSet-Cookie: x=1\r\n\r\n",
            id="bare-lf",
        ),
        pytest.param(
            b"GET secure HTTP/1.1\r\nHost: localhost\r\n\r\n", id="relative-target"
        ),
        pytest.param(b"GET * HTTP/1.1\r\nHost: localhost\r\n\r\n", id="asterisk-form"),
        pytest.param(
            b"GET evil.com:443 HTTP/1.1\r\nHost: localhost\r\n\r\n", id="authority-form"
        ),
    ],
)
def test_malformed_request_over_the_wire(port: int, request_head: bytes) -> None:
    # The server may refuse these itself; whoever answers, the answer is safe.
    assert_safe_over_the_wire(send_raw(port, request_head))


@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(
            b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\n\r\n", id="utf-8"
        ),
        pytest.param(
            b"GET /\xe9\xff HTTP/1.1\r\nHost: localhost\r\n\r\n", id="latin-1"
        ),
        pytest.param(
            b"GET /a?q=\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\n\r\n", id="query"
        ),
    ],
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
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: evil.com/x\r\n\r\n", id="slash"),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: evil.com\\x\r\n\r\n", id="backslash"
        ),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: a@b\r\n\r\n", id="at-sign"),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: \r\n\r\n", id="empty"),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: a b\r\n\r\n", id="space"),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: a\x01b\r\n\r\n", id="control"),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: caf\xc3\xa9.com\r\n\r\n", id="non-ascii"
        ),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: localhost:99999\r\n\r\n", id="port-too-big"
        ),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: ::1\r\n\r\n", id="bare-ipv6"),
        pytest.param(
            b"GET /secure HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\n\r\n",
            id="two-hosts",
        ),
        pytest.param(b"GET /secure HTTP/1.1\r\n\r\n", id="no-host"),
        pytest.param(b"GET /secure HTTP/1.0\r\n\r\n", id="http-1.0-no-host"),
        pytest.param(
            b"GET //evil.com HTTP/1.1\r\nHost: a@b\r\n\r\n", id="bad-host-and-path"
        ),
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


@pytest.mark.config(TRUSTED_HOSTS=["localhost"])
@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(
            b"GET http://evil.com/secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
            id="absolute-form",
        ),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: evil.com\r\n\r\n", id="host"),
        pytest.param(
            b"GET //evil.com HTTP/1.1\r\nHost: evil.com\r\n\r\n", id="host-and-path"
        ),
    ],
)
def test_untrusted_host_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.status == 400


@pytest.mark.config(TRUSTED_HOSTS=["localhost"])
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


@pytest.mark.config(ENFORCE_HTTPS_HOST="localhost")
@pytest.mark.parametrize(
    "request_head",
    [
        pytest.param(
            b"GET http://evil.com/secure HTTP/1.1\r\nHost: localhost\r\n\r\n",
            id="absolute-form",
        ),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: evil.com\r\n\r\n", id="host"),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: a@b\r\n\r\n", id="at-sign"),
        pytest.param(b"GET /secure HTTP/1.1\r\nHost: \r\n\r\n", id="empty"),
    ],
)
def test_canonical_host_over_the_wire(port: int, request_head: bytes) -> None:
    response = send_raw(port, request_head)
    assert_safe_over_the_wire(response)
    assert response.get_all("Location") == ["https://localhost/secure"]
