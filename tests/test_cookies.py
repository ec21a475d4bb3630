"""Secure cookies: ``secure_cookies`` adds ``Secure`` to every ``Set-Cookie``
sent over HTTPS, for the environment or one application.

``/cookies`` sets ``plain=1`` without ``Secure`` and ``already=2`` with it.
"""

from __future__ import annotations

import typing as t

import pytest
from conftest import create_app
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_enforce_https import SettingsError

HTTPS = "https://example.com"
ENVIRONMENT = {"environment": {"secure_cookies": True}}
APPLICATION = {"applications": {"shop": {"secure_cookies": True}}}
OTHER = {"applications": {"other": {"secure_cookies": True}}}


def cookies(response: TestResponse) -> dict[str, str]:
    """Return the ``Set-Cookie`` values of ``response`` by cookie name."""
    values = response.headers.getlist("Set-Cookie")
    found = {value.partition("=")[0]: value for value in values}
    assert len(found) == len(values), values
    return found


def secure_count(cookie: str) -> int:
    """Return how many ``Secure`` attributes ``cookie`` has, in any case."""
    attributes = cookie.split(";")[1:]
    return sum(1 for a in attributes if a.strip().lower() == "secure")


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(ENVIRONMENT, id="environment"),
        pytest.param(APPLICATION, id="application"),
        pytest.param({**ENVIRONMENT, **APPLICATION}, id="both"),
    ],
)
def test_https_cookies_get_exactly_one_secure(client: FlaskClient) -> None:
    response = client.get("/cookies", base_url=HTTPS)
    assert response.status_code == 200
    found = cookies(response)
    assert set(found) == {"plain", "already"}
    assert secure_count(found["plain"]) == 1
    assert secure_count(found["already"]) == 1


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(ENVIRONMENT, id="environment"),
        pytest.param(APPLICATION, id="application"),
    ],
)
def test_secure_keeps_the_other_attributes(client: FlaskClient) -> None:
    response = client.get("/cookies", base_url=HTTPS)
    plain = cookies(response)["plain"]
    assert plain.startswith("plain=1; ")
    assert "Path=/" in plain.split("; ")


@pytest.mark.settings(ENVIRONMENT)
def test_secure_is_recognised_as_an_attribute_only(app: Flask) -> None:
    @app.get("/odd-cookies")
    def odd_cookies() -> Response:
        response = Response("odd")
        response.headers.add("Set-Cookie", "lower=1; secure; Path=/")
        response.headers.add("Set-Cookie", "upper=2; Path=/; SECURE")
        response.headers.add("Set-Cookie", "named=Secure; Path=/secure")
        response.headers.add("Set-Cookie", "bare=3")
        return response

    found = cookies(app.test_client().get("/odd-cookies", base_url=HTTPS))
    assert found == {
        "lower": "lower=1; secure; Path=/",
        "upper": "upper=2; Path=/; SECURE",
        "named": "named=Secure; Path=/secure; Secure",
        "bare": "bare=3; Secure",
    }


@pytest.mark.settings(ENVIRONMENT)
def test_responses_without_cookies_get_none(client: FlaskClient) -> None:
    response = client.get("/", base_url=HTTPS)
    assert response.headers.getlist("Set-Cookie") == []


def test_secure_cookies_off_by_default(client: FlaskClient) -> None:
    found = cookies(client.get("/cookies", base_url=HTTPS))
    assert secure_count(found["plain"]) == 0
    assert secure_count(found["already"]) == 1


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(ENVIRONMENT, id="environment"),
        pytest.param(APPLICATION, id="application"),
    ],
)
def test_http_cookies_are_unchanged(client: FlaskClient) -> None:
    plain_http = client.get("/cookies")
    assert plain_http.status_code == 200
    unchanged = create_app().test_client().get("/cookies")
    assert plain_http.headers.getlist("Set-Cookie") == unchanged.headers.getlist(
        "Set-Cookie"
    )
    found = cookies(plain_http)
    assert secure_count(found["plain"]) == 0
    assert secure_count(found["already"]) == 1


@pytest.mark.settings(OTHER)
def test_another_applications_setting_does_nothing(client: FlaskClient) -> None:
    found = cookies(client.get("/cookies", base_url=HTTPS))
    assert secure_count(found["plain"]) == 0
    assert secure_count(found["already"]) == 1


@pytest.mark.settings(OTHER)
@pytest.mark.config(ENFORCE_HTTPS_APPLICATION="other")
def test_application_name_selects_the_table(client: FlaskClient) -> None:
    found = cookies(client.get("/cookies", base_url=HTTPS))
    assert secure_count(found["plain"]) == 1
    assert secure_count(found["already"]) == 1


@pytest.mark.settings(APPLICATION)
@pytest.mark.config(ENFORCE_HTTPS_APPLICATION="other")
def test_renamed_application_ignores_its_flask_name(client: FlaskClient) -> None:
    found = cookies(client.get("/cookies", base_url=HTTPS))
    assert secure_count(found["plain"]) == 0


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        pytest.param(
            {"environment": {"secure_cookies": "yes"}},
            "environment.secure_cookies",
            id="environment",
        ),
        pytest.param(
            {"applications": {"shop": {"secure_cookies": 1}}},
            "applications.shop.secure_cookies",
            id="application",
        ),
    ],
)
def test_invalid_secure_cookies_names_the_key(settings: t.Any, key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        create_app(settings)
    assert caught.value.key == key
    assert f"{key}: " in str(caught.value)
