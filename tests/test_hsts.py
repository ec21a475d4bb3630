"""HSTS: the ``Strict-Transport-Security`` header and the ``hsts*`` settings.

The header is sent on HTTPS responses only, once, on every endpoint kind,
never for the excluded hosts, with the configured directives; ``hsts`` also
forces TLS on every screen, but not on integrations.
"""

from __future__ import annotations

import typing as t

import pytest
from conftest import create_app
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_enforce_https import SettingsError
from flask_enforce_https.settings import parse_settings

HSTS = "Strict-Transport-Security"
HTTPS = "https://example.com"
ON = {"environment": {"hsts": True}}


def hsts_values(response: TestResponse) -> list[str]:
    """Return every ``Strict-Transport-Security`` value of ``response``."""
    return response.headers.getlist(HSTS)


@pytest.mark.settings(ON)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/", 200, id="screen"),
        pytest.param("GET", "/page", 200, id="undeclared-screen"),
        pytest.param("GET", "/secure", 200, id="tls-screen"),
        pytest.param("GET", "/account/login", 200, id="web-flow"),
        pytest.param("GET", "/api/orders", 200, id="rest"),
        pytest.param("GET", "/api/status", 200, id="rest-none"),
        pytest.param("POST", "/soap", 200, id="soap"),
        pytest.param("POST", "/soap/open", 200, id="soap-none"),
        pytest.param("GET", "/no-such-page", 404, id="unmatched-404"),
    ],
)
def test_hsts_sent_on_https_for_every_kind(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method, base_url=HTTPS)
    assert response.status_code == status
    assert hsts_values(response) == ["max-age=31536000"]


@pytest.mark.settings(ON)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/", 301, id="screen-301"),
        pytest.param("GET", "/secure", 301, id="tls-screen-301"),
        pytest.param("POST", "/secure", 308, id="post-308"),
        pytest.param("GET", "/no-such-page", 301, id="unmatched-301"),
        pytest.param("GET", "/api/orders", 403, id="rest-403"),
        pytest.param("POST", "/soap", 403, id="soap-403"),
        pytest.param("GET", "/api/status", 200, id="rest-none-served"),
        pytest.param("POST", "/soap/open", 200, id="soap-none-served"),
    ],
)
def test_hsts_never_sent_over_http(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert hsts_values(response) == []


@pytest.mark.settings(ON)
def test_view_own_hsts_header_is_kept_not_doubled(client: FlaskClient) -> None:
    response = client.get("/own-hsts", base_url=HTTPS)
    assert response.status_code == 200
    assert len(response.headers.getlist(HSTS)) == 1
    assert response.headers[HSTS] == "max-age=60"


@pytest.mark.settings(ON)
def test_view_own_hsts_header_over_http_is_left_alone(client: FlaskClient) -> None:
    response = client.get("/own-hsts")
    assert response.status_code == 301
    assert hsts_values(response) == []


def test_hsts_off_by_default(client: FlaskClient) -> None:
    response = client.get("/", base_url=HTTPS)
    assert response.status_code == 200
    assert hsts_values(response) == []


@pytest.mark.settings({"environment": {"hsts": False, "hsts_max_age": 600}})
def test_hsts_false_sends_no_header(client: FlaskClient) -> None:
    response = client.get("/", base_url=HTTPS)
    assert hsts_values(response) == []
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(ON, "max-age=31536000", id="default"),
        pytest.param(
            {"environment": {"hsts": True, "hsts_max_age": 0}},
            "max-age=0",
            id="max-age-0",
        ),
        pytest.param(
            {
                "environment": {
                    "hsts": True,
                    "hsts_max_age": 600,
                    "hsts_include_subdomains": True,
                }
            },
            "max-age=600; includeSubDomains",
            id="subdomains",
        ),
        pytest.param(
            {
                "environment": {
                    "hsts": True,
                    "hsts_max_age": 63072000,
                    "hsts_include_subdomains": True,
                    "hsts_preload": True,
                }
            },
            "max-age=63072000; includeSubDomains; preload",
            id="preload",
        ),
        pytest.param(
            {"environment": {"hsts": True, "hsts_preload": True}},
            "max-age=31536000; preload",
            id="preload-only",
        ),
    ],
)
def test_hsts_header_value(client: FlaskClient, expected: str) -> None:
    response = client.get("/", base_url=HTTPS)
    assert hsts_values(response) == [expected]


@pytest.mark.settings(ON)
@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("https://localhost", id="localhost"),
        pytest.param("https://127.0.0.1", id="ipv4-loopback"),
        pytest.param("https://[::1]", id="ipv6-loopback"),
        pytest.param("https://localhost:8443", id="localhost-port"),
        pytest.param("https://127.0.0.1:8443", id="ipv4-port"),
        pytest.param("https://[::1]:8443", id="ipv6-port"),
        pytest.param("https://LOCALHOST", id="uppercase"),
    ],
)
def test_hsts_never_sent_for_default_excluded_hosts(
    client: FlaskClient, base_url: str
) -> None:
    response = client.get("/", base_url=base_url)
    assert response.status_code == 200
    assert hsts_values(response) == []


@pytest.mark.settings(
    {"environment": {"hsts": True, "hsts_excluded_hosts": ["dev.example.com"]}}
)
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        pytest.param("https://dev.example.com", [], id="excluded"),
        pytest.param("https://dev.example.com:8443", [], id="excluded-port"),
        pytest.param("https://example.com", ["max-age=31536000"], id="other-host"),
        pytest.param("https://localhost", ["max-age=31536000"], id="localhost"),
        pytest.param("https://127.0.0.1", ["max-age=31536000"], id="loopback"),
    ],
)
def test_custom_excluded_hosts_replace_the_default(
    client: FlaskClient, base_url: str, expected: list[str]
) -> None:
    response = client.get("/", base_url=base_url)
    assert response.status_code == 200
    assert hsts_values(response) == expected


@pytest.mark.settings({"environment": {"hsts": True, "hsts_excluded_hosts": []}})
def test_empty_excluded_hosts_sends_hsts_to_localhost(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert hsts_values(response) == ["max-age=31536000"]


@pytest.mark.settings(ON)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/", 301, id="screen"),
        pytest.param("GET", "/page", 301, id="undeclared-screen"),
        pytest.param("GET", "/account/help", 301, id="none-in-web-flow"),
        pytest.param("POST", "/secure", 308, id="post-screen"),
        pytest.param("GET", "/api/status", 200, id="rest-none"),
        pytest.param("POST", "/soap/open", 200, id="soap-none"),
        pytest.param("GET", "/api/orders", 403, id="rest-tls"),
    ],
)
def test_hsts_forces_screens_not_integrations(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    if status in (301, 308):
        assert response.headers["Location"] == f"https://localhost{path}"
    else:
        assert "Location" not in response.headers


def test_without_hsts_screens_are_served_over_http(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/api/status").status_code == 200


@pytest.mark.parametrize(
    ("environment", "key"),
    [
        pytest.param(
            {"hsts_max_age": -1}, "environment.hsts_max_age", id="max-age-negative"
        ),
        pytest.param(
            {"hsts_max_age": True}, "environment.hsts_max_age", id="max-age-bool"
        ),
        pytest.param(
            {"hsts_max_age": "600"}, "environment.hsts_max_age", id="max-age-string"
        ),
        pytest.param(
            {"hsts_max_age": 1.5}, "environment.hsts_max_age", id="max-age-float"
        ),
        pytest.param({"hsts": "yes"}, "environment.hsts", id="hsts-string"),
        pytest.param({"hsts": 1}, "environment.hsts", id="hsts-int"),
        pytest.param(
            {"hsts_include_subdomains": "true"},
            "environment.hsts_include_subdomains",
            id="subdomains-string",
        ),
        pytest.param(
            {"hsts_preload": None}, "environment.hsts_preload", id="preload-none"
        ),
        pytest.param(
            {"hsts_excluded_hosts": "localhost"},
            "environment.hsts_excluded_hosts",
            id="excluded-string",
        ),
        pytest.param(
            {"hsts_excluded_hosts": ["a/b"]},
            "environment.hsts_excluded_hosts",
            id="excluded-path",
        ),
        pytest.param(
            {"hsts_excluded_hosts": [""]},
            "environment.hsts_excluded_hosts",
            id="excluded-empty",
        ),
    ],
)
def test_invalid_hsts_settings_name_the_key(
    environment: dict[str, t.Any], key: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        create_app({"environment": environment})
    assert caught.value.key == key
    assert f"{key}: " in str(caught.value)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("hsts", id="hsts"),
        pytest.param("hsts_max_age", id="max-age"),
        pytest.param("hsts_include_subdomains", id="subdomains"),
        pytest.param("hsts_preload", id="preload"),
        pytest.param("hsts_excluded_hosts", id="excluded-hosts"),
    ],
)
def test_hsts_settings_are_environment_only(key: str) -> None:
    value: t.Any = ["dev.example.com"] if key == "hsts_excluded_hosts" else True
    if key == "hsts_max_age":
        value = 600
    with pytest.raises(SettingsError) as caught:
        create_app({"applications": {"shop": {key: value}}})
    assert caught.value.key == f"applications.shop.{key}"
    message = str(caught.value)
    assert f"applications.shop.{key}" in message
    assert "only the environment can set" in message


@pytest.mark.settings(
    {
        "environment": {
            "hsts": True,
            "hsts_excluded_hosts": [
                "Dev.Example.com.",
                "[0:0:0:0:0:0:0:1]",
                "fe80::A",
            ],
        }
    }
)
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        pytest.param("https://dev.example.com", [], id="plain"),
        pytest.param("https://dev.example.com.", [], id="trailing-dot"),
        pytest.param("https://DEV.EXAMPLE.COM.:8443", [], id="upper-dot-port"),
        pytest.param("https://[::1]", [], id="ipv6-compressed"),
        pytest.param("https://[0:0:0:0:0:0:0:1]", [], id="ipv6-full"),
        pytest.param("https://[0000::0001]:8443", [], id="ipv6-zeros-port"),
        pytest.param("https://[FE80:0::a]", [], id="ipv6-upper"),
        pytest.param("https://example.com.", ["max-age=31536000"], id="other-host"),
    ],
)
def test_excluded_hosts_match_however_the_host_is_written(
    client: FlaskClient, base_url: str, expected: list[str]
) -> None:
    response = client.get("/", base_url=base_url)
    assert response.status_code == 200
    assert hsts_values(response) == expected


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("dev.example.com:8443", id="name-port"),
        pytest.param("127.0.0.1:443", id="ipv4-port"),
        pytest.param("[::1]:443", id="ipv6-port"),
        pytest.param("[dev.example.com]", id="brackets-not-ipv6"),
    ],
)
def test_excluded_hosts_that_can_never_match_are_refused(host: str) -> None:
    with pytest.raises(SettingsError) as caught:
        create_app({"environment": {"hsts": True, "hsts_excluded_hosts": [host]}})
    assert caught.value.key == "environment.hsts_excluded_hosts"
    assert repr(host) in caught.value.problem


def test_excluded_hosts_are_stored_normalised() -> None:
    settings = parse_settings(
        {
            "environment": {
                "hsts_excluded_hosts": ["Name.", "[0:0::1]", "::FFFF:1.2.3.4"]
            }
        }
    )
    assert settings.environment.hsts_excluded_hosts == (
        "name",
        "::1",
        "::ffff:102:304",
    )


@pytest.mark.settings({"environment": {"hsts": True, "hsts_max_age": 0}})
def test_max_age_0_clears_hsts_and_forces_no_screen(client: FlaskClient) -> None:
    """Turning HSTS off: ``max-age=0`` tells browsers to forget the host,
    and screens are served over plain HTTP again (issue 13's decision)."""
    assert hsts_values(client.get("/", base_url=HTTPS)) == ["max-age=0"]
    assert client.get("/").status_code == 200
