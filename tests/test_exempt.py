"""Exempt paths: ``exempt_paths`` are served as they come, for load-balancer
health checks and ACME challenges, in the environment or one application.

A path is exempt when it equals an exempt path, or starts with one that ends
in ``/``; a path with ``.`` or ``..`` segments never is.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from conftest import create_app
from flask import Flask
from flask.testing import FlaskClient

from flask_enforce_https import SettingsError

HTTPS = "https://example.com"
FORCED = {"force_https_screens": True, "force_https_integrations": True}
EXEMPT = ["/healthz", "/.well-known/acme-challenge/"]
ENVIRONMENT = {"environment": {**FORCED, "exempt_paths": EXEMPT}}


@pytest.mark.settings(ENVIRONMENT)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/healthz", 200, id="exact"),
        pytest.param("HEAD", "/healthz", 200, id="head"),
        pytest.param("GET", "/healthz?probe=lb", 200, id="query"),
        pytest.param(
            "GET", "/.well-known/acme-challenge/token123", 404, id="acme-token"
        ),
        pytest.param("GET", "/.well-known/acme-challenge/", 404, id="acme-root"),
        pytest.param("GET", "/.well-known/acme-challenge/a/b", 404, id="acme-nested"),
    ],
)
def test_exempt_paths_are_served_over_http(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert "Location" not in response.headers


@pytest.mark.settings(ENVIRONMENT)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/healthz/", id="trailing-slash"),
        pytest.param("/healthzz", id="longer-name"),
        pytest.param("/healthz/deep", id="below-exact"),
        pytest.param("/Healthz", id="other-case"),
        pytest.param("/.well-known/acme-challenge", id="prefix-without-slash"),
        pytest.param("/.well-known/acme-challengex/token", id="prefix-longer-name"),
        pytest.param("/.well-known/acme-challenge/../../secure", id="dot-dot"),
        pytest.param("/.well-known/acme-challenge/./x", id="dot"),
        pytest.param("/.well-known/acme-challenge/..", id="dot-dot-last"),
        pytest.param(
            "/.well-known/acme-challenge/a/../../../secure", id="dot-dot-nested"
        ),
        pytest.param("/", id="screen"),
        pytest.param("/secure", id="tls-screen"),
    ],
)
def test_other_paths_are_redirected(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://localhost{path}"


@pytest.mark.settings(ENVIRONMENT)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/api/orders", id="rest-tls"),
        pytest.param("GET", "/api/status", id="rest-forced"),
        pytest.param("POST", "/soap/open", id="soap-forced"),
    ],
)
def test_integrations_outside_exempt_paths_are_refused(
    client: FlaskClient, method: str, path: str
) -> None:
    assert client.open(path, method=method).status_code == 403


@pytest.mark.settings(
    {"environment": {**FORCED, "exempt_paths": ["/api/status", "/soap/"]}}
)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/api/status", 200, id="forced-rest"),
        pytest.param("GET", "/api/orders", 403, id="other-rest"),
        pytest.param("POST", "/soap/open", 200, id="forced-soap-prefix"),
        pytest.param("POST", "/soap", 403, id="tls-soap-in-prefix"),
    ],
)
def test_exempt_integrations_are_exempt_from_forcing_only(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    # /soap is under the exempt prefix, but its design requires TLS.
    assert client.open(path, method=method).status_code == status


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            {
                "environment": {
                    "exempt_paths": ["/secure", "/account/", "/api/", "/soap"]
                }
            },
            id="design-time",
        ),
        pytest.param(
            {
                "environment": {
                    **FORCED,
                    "hsts": True,
                    "exempt_paths": ["/secure", "/api/"],
                }
            },
            id="forced-too",
        ),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/secure", 301, id="get"),
        pytest.param("POST", "/secure", 308, id="post"),
        pytest.param("GET", "/account/login", 301, id="web-flow"),
        pytest.param("GET", "/api/orders", 403, id="rest"),
        pytest.param("POST", "/soap", 403, id="soap"),
    ],
)
def test_exempt_paths_never_lower_the_design_time_level(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    # No setting lets HTTP through to an endpoint whose design requires TLS.
    response = client.open(path, method=method)
    assert response.status_code == status


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"environment": {"exempt_paths": ["/"]}}, id="environment"),
        pytest.param(
            {"applications": {"shop": {"exempt_paths": ["/"]}}}, id="application"
        ),
    ],
)
def test_the_root_prefix_is_refused(
    request: pytest.FixtureRequest, settings: t.Any
) -> None:
    with pytest.raises(SettingsError, match="would exempt every path"):
        request.getfixturevalue("app")


@pytest.mark.parametrize(
    ("settings", "config"),
    [
        pytest.param(
            {"applications": {"shop": {**FORCED, "exempt_paths": EXEMPT}}},
            {},
            id="application",
        ),
        pytest.param(
            {"environment": FORCED, "applications": {"shop": {"exempt_paths": EXEMPT}}},
            {},
            id="forced-by-environment",
        ),
        pytest.param(
            {"applications": {"other": {**FORCED, "exempt_paths": EXEMPT}}},
            {"ENFORCE_HTTPS_APPLICATION": "other"},
            id="renamed",
        ),
        pytest.param(
            {
                "environment": {**FORCED, "exempt_paths": ["/healthz"]},
                "applications": {
                    "shop": {"exempt_paths": ["/.well-known/acme-challenge/"]}
                },
            },
            {},
            id="both-scopes",
        ),
    ],
)
def test_application_exempt_paths_apply_to_their_app(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/.well-known/acme-challenge/token123").status_code == 404
    assert client.get("/healthzz").status_code == 301
    assert client.get("/").status_code == 301


@pytest.mark.settings(
    {
        "environment": FORCED,
        "applications": {"other": {"exempt_paths": EXEMPT}},
    }
)
def test_another_applications_exempt_paths_do_nothing(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/healthz"
    acme = client.get("/.well-known/acme-challenge/token123")
    assert acme.status_code == 301


@pytest.mark.settings({"environment": {"hsts": True, "exempt_paths": EXEMPT}})
@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/healthz", 200, id="healthz"),
        pytest.param("/.well-known/acme-challenge/token123", 404, id="acme"),
    ],
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
        pytest.param(
            {"environment": {"exempt_paths": ["healthz"]}},
            "environment.exempt_paths",
            id="no-leading-slash",
        ),
        pytest.param(
            {"environment": {"exempt_paths": ["/has space"]}},
            "environment.exempt_paths",
            id="space",
        ),
        pytest.param(
            {"environment": {"exempt_paths": "/healthz"}},
            "environment.exempt_paths",
            id="string-not-list",
        ),
        pytest.param(
            {"environment": {"exempt_paths": [""]}},
            "environment.exempt_paths",
            id="empty",
        ),
        pytest.param(
            {"environment": {"exempt_paths": ["/tab\there"]}},
            "environment.exempt_paths",
            id="control-character",
        ),
        pytest.param(
            {"environment": {"exempt_paths": [1]}},
            "environment.exempt_paths",
            id="not-a-string",
        ),
        pytest.param(
            {"environment": {"exempt_paths": None}},
            "environment.exempt_paths",
            id="none",
        ),
        pytest.param(
            {"applications": {"shop": {"exempt_paths": ["healthz"]}}},
            "applications.shop.exempt_paths",
            id="application",
        ),
    ],
)
def test_invalid_exempt_paths_name_the_key(settings: t.Any, key: str) -> None:
    with pytest.raises(SettingsError) as caught:
        create_app(settings)
    assert caught.value.key == key
    assert f"{key}: " in str(caught.value)


# --------------------------------------------------------------------------
# What each entry reaches: flask https show and flask https check
# --------------------------------------------------------------------------


def findings_of(app: Flask) -> dict[str, dict[str, str]]:
    """``flask https check --format json`` findings, by id."""
    result = app.test_cli_runner().invoke(args=["https", "check", "--format", "json"])
    return {f["id"]: f for f in json.loads(result.output)}


@pytest.mark.settings(
    {
        "environment": {**FORCED, "exempt_paths": ["/healthz", "/no-such/"]},
        "applications": {"shop": {"exempt_paths": ["/api/"]}},
    }
)
def test_show_lists_what_each_entry_exempts(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["https", "show"])
    assert result.exit_code == 0, result.output
    assert "  /healthz (environment): healthz\n" in result.output
    assert "  /no-such/ (environment): no route of this app\n" in result.output
    assert "  /api/ (application 'shop'): orders, status\n" in result.output
    rows = json.loads(
        app.test_cli_runner().invoke(args=["https", "show", "--format", "json"]).output
    )
    by_endpoint = {row["endpoint"]: row for row in rows}
    # Exempt from forcing: the design's level is in force.
    assert by_endpoint["healthz"]["effective"] == "none"
    assert by_endpoint["status"]["effective"] == "none"
    assert by_endpoint["orders"]["effective"] == "tls"
    assert by_endpoint["page"]["effective"] == "tls"


@pytest.mark.parametrize(
    ("exempt", "expected"),
    [
        pytest.param(
            {"environment": {"exempt_paths": ["/api/", "/secure"]}},
            {"exempt-path-design-tls": "warning"},
            id="design-tls",
        ),
        pytest.param(
            {"applications": {"shop": {"exempt_paths": ["/helthz"]}}},
            {"exempt-path-no-route": "warning"},
            id="no-route-application",
        ),
        pytest.param(
            {"environment": {"exempt_paths": ["/orders-app-only"]}},
            {"exempt-path-no-route-environment": "info"},
            id="no-route-environment",
        ),
        pytest.param(
            {"environment": {"hsts": True, "exempt_paths": ["/healthz"]}},
            {"exempt-path-hsts": "warning"},
            id="hsts-screen",
        ),
        pytest.param(
            {"environment": {**FORCED, "exempt_paths": ["/healthz"]}},
            {},
            id="nothing-to-say",
        ),
    ],
)
def test_check_reports_entries_that_do_nothing_or_too_much(
    exempt: t.Any, expected: dict[str, str]
) -> None:
    found = findings_of(create_app(exempt, ENFORCE_HTTPS_HOST="localhost"))
    reported = {i: f["severity"] for i, f in found.items() if i.startswith("exempt-")}
    assert reported == expected


def test_design_tls_finding_names_the_entries_and_endpoints() -> None:
    app = create_app({"environment": {"exempt_paths": ["/api/", "/healthz"]}})
    message = findings_of(app)["exempt-path-design-tls"]["message"]
    assert "'/api/' (environment): orders" in message
    assert "healthz" not in message
