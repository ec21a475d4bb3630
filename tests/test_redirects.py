"""Plain-HTTP requests to screens that need TLS are redirected to HTTPS."""

from __future__ import annotations

import typing as t

import pytest
from conftest import create_app, send_raw
from flask import Flask, Response
from flask.testing import FlaskClient

from flask_enforce_https import ConfigurationError, EnforceHTTPS


def test_https_is_served(client: FlaskClient) -> None:
    response = client.get("/secure", base_url="https://example.com")
    assert response.status_code == 200
    assert response.data == b"secure"


def test_http_is_served_when_nothing_requires_tls(client: FlaskClient) -> None:
    assert client.get("/").data == b"home"
    assert client.get("/account/help").data == b"help"


@pytest.mark.parametrize(
    ("method", "code"),
    [
        pytest.param("GET", 301, id="get"),
        pytest.param("HEAD", 301, id="head"),
        pytest.param("POST", 308, id="post"),
        pytest.param("PUT", 308, id="put"),
        pytest.param("DELETE", 308, id="delete"),
        pytest.param("PATCH", 308, id="patch"),
    ],
)
def test_redirect_codes_keep_unsafe_methods(
    client: FlaskClient, method: str, code: int
) -> None:
    response = client.open("/secure", method=method, data="body=kept")
    assert response.status_code == code
    assert response.headers["Location"] == "https://localhost/secure"


@pytest.mark.config(
    ENFORCE_HTTPS_REDIRECT_CODE=302, ENFORCE_HTTPS_REDIRECT_CODE_OTHER=307
)
def test_temporary_codes_for_rollouts(client: FlaskClient) -> None:
    assert client.get("/secure").status_code == 302
    assert client.post("/secure").status_code == 307


def test_redirect_body_links_to_location(client: FlaskClient) -> None:
    response = client.get("/secure?a=1&b=<x>")
    assert response.mimetype == "text/html"
    assert b'href="https://localhost/secure?a=1&amp;b=%3Cx%3E"' in response.data


@pytest.mark.parametrize(
    ("url", "location"),
    [
        pytest.param("/secure", "https://localhost/secure", id="plain"),
        pytest.param(
            "/secure?b=2&a=1&a=3",
            "https://localhost/secure?b=2&a=1&a=3",
            id="query-order",
        ),
        pytest.param(
            "/secure?q=a%2Fb&x=%25&y=%E2%9C%93",
            "https://localhost/secure?q=a%2Fb&x=%25&y=%E2%9C%93",
            id="query-escapes",
        ),
        pytest.param(
            "/account/%7Euser", "https://localhost/account/%7Euser", id="tilde-escape"
        ),
        pytest.param(
            "/account/a%2Fb", "https://localhost/account/a%2Fb", id="slash-escape"
        ),
        pytest.param(
            "/account/caf%C3%A9", "https://localhost/account/caf%C3%A9", id="utf8"
        ),
    ],
)
@pytest.mark.settings({"environment": {"force_https_screens": True}})
def test_location_keeps_path_and_query_as_sent(
    client: FlaskClient, url: str, location: str
) -> None:
    response = client.get(url)
    assert response.status_code == 301
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("host", "config", "location"),
    [
        pytest.param(
            "shop.example.com", {}, "https://shop.example.com/secure", id="host"
        ),
        pytest.param(
            "shop.example.com:8080",
            {},
            "https://shop.example.com/secure",
            id="drops-http-port",
        ),
        pytest.param(
            "Shop.Example.COM", {}, "https://shop.example.com/secure", id="lowercase"
        ),
        pytest.param(
            "shop.example.com:8080",
            {"ENFORCE_HTTPS_PORT": 8443},
            "https://shop.example.com:8443/secure",
            id="maps-port",
        ),
        pytest.param(
            "shop.example.com",
            {"ENFORCE_HTTPS_PORT": 443},
            "https://shop.example.com/secure",
            id="omits-443",
        ),
        pytest.param("[::1]:8080", {}, "https://[::1]/secure", id="ipv6"),
        pytest.param(
            "[2001:DB8::1]",
            {"ENFORCE_HTTPS_PORT": 8443},
            "https://[2001:db8::1]:8443/secure",
            id="ipv6-port",
        ),
        pytest.param("192.0.2.7:80", {}, "https://192.0.2.7/secure", id="ipv4"),
        pytest.param(
            "evil.example",
            {"ENFORCE_HTTPS_HOST": "www.example.com"},
            "https://www.example.com/secure",
            id="canonical",
        ),
        pytest.param(
            "evil.example",
            {"ENFORCE_HTTPS_HOST": "www.example.com", "ENFORCE_HTTPS_PORT": 8443},
            "https://www.example.com:8443/secure",
            id="canonical-port",
        ),
    ],
)
def test_location_host_and_port(
    host: str, config: dict[str, t.Any], location: str
) -> None:
    from conftest import create_app

    client = create_app(**config).test_client()
    response = client.get("/secure", headers={"Host": host})
    assert response.status_code == 301
    assert response.headers["Location"] == location


def test_location_uses_raw_uri_from_the_server(app: Flask) -> None:
    # gunicorn and werkzeug's server pass the request target unchanged in
    # RAW_URI / REQUEST_URI; the decoded PATH_INFO would lose %2F.
    response = app.test_client().get(
        "/secure",
        environ_overrides={
            "RAW_URI": "/secure/%2e%2E?x=%2F",
            "REQUEST_URI": "/secure/%2e%2E?x=%2F",
        },
    )
    assert response.headers["Location"] == "https://localhost/secure/%2e%2E?x=%2F"


def test_location_rebuilt_when_no_raw_uri(app: Flask) -> None:
    response = app.test_client().get(
        "/secure",
        query_string="q=1",
        environ_overrides={"RAW_URI": "", "REQUEST_URI": "", "SCRIPT_NAME": "/shop"},
    )
    assert response.headers["Location"] == "https://localhost/shop/secure?q=1"


def test_mounted_app_keeps_its_prefix(app: Flask) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client

    outer = Flask("outer")
    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/shop": app})  # type: ignore[method-assign]
    response = Client(outer).get("/shop/secure?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/shop/secure?x=1"


@pytest.mark.parametrize(
    ("server_name", "expected"),
    [
        pytest.param("shop.example.com", "https://shop.example.com/secure", id="name"),
        pytest.param(
            "shop.example.com:8080", "https://shop.example.com/secure", id="with-port"
        ),
    ],
)
def test_server_name_pins_the_redirect_host(server_name: str, expected: str) -> None:
    app = create_app({}, SERVER_NAME=server_name)
    response = app.test_client().get(
        "/secure", base_url="http://shop.example.com", headers={"Host": "evil.com"}
    )
    assert response.status_code == 301
    assert response.headers["Location"] == expected


def test_enforce_https_host_wins_over_server_name() -> None:
    app = create_app(
        {}, SERVER_NAME="shop.example.com", ENFORCE_HTTPS_HOST="www.example.com"
    )
    response = app.test_client().get("/secure", base_url="http://shop.example.com")
    assert response.headers["Location"] == "https://www.example.com/secure"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        pytest.param("example.com", 301, id="the-domain"),
        pytest.param("shop.example.com", 301, id="a-subdomain"),
        pytest.param("evil.com", 400, id="another-domain"),
        pytest.param("badexample.com", 400, id="a-suffix-only"),
    ],
)
@pytest.mark.filterwarnings("ignore:Current server name:UserWarning")
def test_subdomain_matching_bounds_the_redirect_host(host: str, status: int) -> None:
    # With subdomain matching, SERVER_NAME names the domain, not the host.
    app = Flask("shop", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"
    app.config["ENFORCE_HTTPS_DEFAULT_SECURITY"] = "tls"
    https = EnforceHTTPS(app)
    app.add_url_rule("/", "home", https.screen("tls")(lambda: "home"))
    response = app.test_client().get("/", base_url=f"http://{host}")
    assert response.status_code == status
    if status == 301:
        assert response.headers["Location"] == f"https://{host}/"


def test_a_bad_server_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SERVER_NAME"):
        create_app({}, SERVER_NAME="a b")


# How long clients may keep a redirect ---------------------------------------


@pytest.mark.parametrize(
    ("method", "code"),
    [pytest.param("GET", 301, id="get"), pytest.param("POST", 308, id="post")],
)
def test_redirect_cache_lifetime_is_bounded_by_default(
    client: FlaskClient, method: str, code: int
) -> None:
    # A bare 301 or 308 is cached indefinitely: a later un-force would never
    # reach the browsers that saw it.
    response = client.open("/secure", method=method)
    assert response.status_code == code
    assert response.headers.getlist("Cache-Control") == ["max-age=3600"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"ENFORCE_HTTPS_REDIRECT_MAX_AGE": 60}, "max-age=60", id="60"),
        pytest.param({"ENFORCE_HTTPS_REDIRECT_MAX_AGE": 0}, "no-store", id="zero"),
        pytest.param(
            {"ENFORCE_HTTPS_REDIRECT_MAX_AGE": 31536000,
             "ENFORCE_HTTPS_REDIRECT_CODE": 302},
            "max-age=31536000",
            id="a-year-temporary",
        ),
    ],
)  # fmt: skip
def test_redirect_max_age_sets_cache_control(
    app: Flask, client: FlaskClient, expected: str
) -> None:
    assert client.get("/secure").headers["Cache-Control"] == expected
    assert client.put("/secure").headers["Cache-Control"] == expected
    state = app.extensions["enforce_https"]
    assert app.config["ENFORCE_HTTPS_REDIRECT_MAX_AGE"] == state.config.redirect_max_age


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-1, id="negative"),
        pytest.param(31536001, id="over-a-year"),
        pytest.param(True, id="bool"),
        pytest.param("3600", id="string"),
        pytest.param(1.5, id="float"),
        pytest.param(None, id="none"),
    ],
)
def test_bad_redirect_max_age_names_the_key(value: t.Any) -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_REDIRECT_MAX_AGE"] = value
    with pytest.raises(ConfigurationError) as info:
        EnforceHTTPS(app)
    assert info.value.key == "ENFORCE_HTTPS_REDIRECT_MAX_AGE"
    assert str(info.value) == (
        "ENFORCE_HTTPS_REDIRECT_MAX_AGE: expected a whole number of seconds"
        f" from 0 to 31536000 (a year), got {value!r}"
    )


def test_redirect_headers_on_the_wire(port: int) -> None:
    # Through a real server, where _Redirect skips werkzeug's header rework.
    reply = send_raw(port, b"GET /secure HTTP/1.1\r\nHost: localhost\r\n\r\n")
    headers = reply.by_name()
    assert reply.status == 301
    assert headers["location"] == ["https://localhost/secure"]
    assert headers["cache-control"] == ["max-age=3600"]
    assert headers["x-content-type-options"] == ["nosniff"]


def test_an_after_request_hook_may_change_the_redirects_caching() -> None:
    app = create_app()

    @app.after_request
    def no_cache(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-cache"
        return response

    response = app.test_client().get("/secure")
    assert response.status_code == 301
    assert response.headers.getlist("Cache-Control") == ["no-cache"]
