"""Exempt paths: ``exempt_paths`` are served as they come, for load-balancer
health checks and ACME challenges, in the environment or one application.

A path is exempt when it equals an exempt path, or starts with one that ends
in ``/``; a path with ``.`` or ``..`` segments never is.
"""

from __future__ import annotations

import typing as t

import pytest
from conftest import create_app
from flask.testing import FlaskClient

from flask_enforce_https import SettingsError

HTTPS = "https://example.com"
FORCED = {"force_https_screens": True, "force_https_integrations": True}
EXEMPT = ["/healthz", "/.well-known/acme-challenge/"]
ENVIRONMENT = {"environment": {**FORCED, "exempt_paths": EXEMPT}}


@pytest.mark.parametrize("settings", [ENVIRONMENT], ids=["environment"])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("HEAD", "/healthz", 200),
        ("GET", "/healthz?probe=lb", 200),
        ("GET", "/.well-known/acme-challenge/token123", 404),
        ("GET", "/.well-known/acme-challenge/", 404),
        ("GET", "/.well-known/acme-challenge/a/b", 404),
    ],
    ids=["exact", "head", "query", "acme-token", "acme-root", "acme-nested"],
)
def test_exempt_paths_are_served_over_http(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert "Location" not in response.headers


@pytest.mark.parametrize("settings", [ENVIRONMENT], ids=["environment"])
@pytest.mark.parametrize(
    "path",
    [
        "/healthz/",
        "/healthzz",
        "/healthz/deep",
        "/Healthz",
        "/.well-known/acme-challenge",
        "/.well-known/acme-challengex/token",
        "/.well-known/acme-challenge/../../secure",
        "/.well-known/acme-challenge/./x",
        "/.well-known/acme-challenge/..",
        "/.well-known/acme-challenge/a/../../../secure",
        "/",
        "/secure",
    ],
    ids=[
        "trailing-slash",
        "longer-name",
        "below-exact",
        "other-case",
        "prefix-without-slash",
        "prefix-longer-name",
        "dot-dot",
        "dot",
        "dot-dot-last",
        "dot-dot-nested",
        "screen",
        "tls-screen",
    ],
)
def test_other_paths_are_redirected(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://localhost{path}"


@pytest.mark.parametrize("settings", [ENVIRONMENT], ids=["environment"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/orders"), ("GET", "/api/status"), ("POST", "/soap/open")],
    ids=["rest-tls", "rest-forced", "soap-forced"],
)
def test_integrations_outside_exempt_paths_are_refused(
    client: FlaskClient, method: str, path: str
) -> None:
    assert client.open(path, method=method).status_code == 403


@pytest.mark.parametrize(
    "settings",
    [{"environment": {**FORCED, "exempt_paths": ["/api/status", "/soap/"]}}],
    ids=["integrations"],
)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/status", 200),
        ("GET", "/api/orders", 403),
        ("POST", "/soap/open", 200),
        ("POST", "/soap", 403),
    ],
    ids=["exempt-rest", "other-rest", "exempt-soap-prefix", "soap-outside-prefix"],
)
def test_exempt_integrations_are_not_refused(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    assert client.open(path, method=method).status_code == status


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"exempt_paths": ["/secure", "/account/"]}}],
    ids=["design-time"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/secure"), ("POST", "/secure"), ("GET", "/account/login")],
    ids=["get", "post", "web-flow"],
)
def test_exempt_paths_win_over_design_time(
    client: FlaskClient, method: str, path: str
) -> None:
    assert client.open(path, method=method).status_code == 200


@pytest.mark.parametrize(
    ("settings", "config"),
    [
        ({"applications": {"shop": {**FORCED, "exempt_paths": EXEMPT}}}, {}),
        (
            {"environment": FORCED, "applications": {"shop": {"exempt_paths": EXEMPT}}},
            {},
        ),
        (
            {"applications": {"other": {**FORCED, "exempt_paths": EXEMPT}}},
            {"ENFORCE_HTTPS_APPLICATION": "other"},
        ),
        (
            {
                "environment": {**FORCED, "exempt_paths": ["/healthz"]},
                "applications": {
                    "shop": {"exempt_paths": ["/.well-known/acme-challenge/"]}
                },
            },
            {},
        ),
    ],
    ids=["application", "forced-by-environment", "renamed", "both-scopes"],
)
def test_application_exempt_paths_apply_to_their_app(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/.well-known/acme-challenge/token123").status_code == 404
    assert client.get("/healthzz").status_code == 301
    assert client.get("/").status_code == 301


@pytest.mark.parametrize(
    "settings",
    [
        {
            "environment": FORCED,
            "applications": {"other": {"exempt_paths": EXEMPT}},
        }
    ],
    ids=["other-app"],
)
def test_another_applications_exempt_paths_do_nothing(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/healthz"
    acme = client.get("/.well-known/acme-challenge/token123")
    assert acme.status_code == 301


@pytest.mark.parametrize(
    "settings",
    [{"environment": {"hsts": True, "exempt_paths": EXEMPT}}],
    ids=["hsts"],
)
@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/.well-known/acme-challenge/token123", 404)],
    ids=["healthz", "acme"],
)
def test_exempt_paths_over_https_still_get_hsts(
    client: FlaskClient, path: str, status: int
) -> None:
    response = client.get(path, base_url=HTTPS)
    assert response.status_code == status
    assert response.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
    over_http = client.get(path)
    assert over_http.status_code == status
    assert "Strict-Transport-Security" not in over_http.headers


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"environment": {"exempt_paths": ["healthz"]}}, "environment.exempt_paths"),
        (
            {"environment": {"exempt_paths": ["/has space"]}},
            "environment.exempt_paths",
        ),
        ({"environment": {"exempt_paths": "/healthz"}}, "environment.exempt_paths"),
        ({"environment": {"exempt_paths": [""]}}, "environment.exempt_paths"),
        ({"environment": {"exempt_paths": ["/tab\there"]}}, "environment.exempt_paths"),
        ({"environment": {"exempt_paths": [1]}}, "environment.exempt_paths"),
        ({"environment": {"exempt_paths": None}}, "environment.exempt_paths"),
        (
            {"applications": {"shop": {"exempt_paths": ["healthz"]}}},
            "applications.shop.exempt_paths",
        ),
    ],
    ids=[
        "no-leading-slash",
        "space",
        "string-not-list",
        "empty",
        "control-character",
        "not-a-string",
        "none",
        "application",
    ],
)
def test_invalid_exempt_paths_name_the_key(settings: t.Any, key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        create_app(settings)
    assert caught.value.key == key
    assert f"{key}: " in str(caught.value)
