"""The precedence table: design-time levels and administrator overrides.

:func:`~flask_enforce_https.policy.resolve` is pure, so the whole table is
checked without a request; the end-to-end tests check that requests obey it.
"""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from flask_enforce_https import HttpSecurity, Kind
from flask_enforce_https.declarations import Design
from flask_enforce_https.policy import resolve
from flask_enforce_https.settings import parse_settings

NONE, TLS, CERT = HttpSecurity.NONE, HttpSecurity.TLS, HttpSecurity.TLS_CLIENT_CERT
SCREEN, REST, SOAP = Kind.SCREEN, Kind.REST, Kind.SOAP

ENV = "environment"
APP = "applications"

# (kind, design level, settings, effective level, reasons)
Row = tuple[str, Kind, HttpSecurity, dict[str, t.Any], HttpSecurity, list[str]]
TABLE: list[Row] = [
    ("screen-none-nothing", SCREEN, NONE, {}, NONE, []),
    ("screen-tls-nothing", SCREEN, TLS, {}, TLS, ["design-time"]),
    ("screen-cert-nothing", SCREEN, CERT, {}, CERT, ["design-time"]),
    ("screen-none-hsts", SCREEN, NONE, {ENV: {"hsts": True}}, TLS,
     ["environment: hsts"]),
    ("screen-none-env-screens", SCREEN, NONE, {ENV: {"force_https_screens": True}},
     TLS, ["environment: force_https_screens"]),
    ("screen-none-app-screens", SCREEN, NONE,
     {APP: {"shop": {"force_https_screens": True}}}, TLS,
     ["application 'shop': force_https_screens"]),
    ("screen-none-other-app-screens", SCREEN, NONE,
     {APP: {"blog": {"force_https_screens": True}}}, NONE, []),
    ("screen-none-env-integrations", SCREEN, NONE,
     {ENV: {"force_https_integrations": True}}, NONE, []),
    ("screen-none-app-integrations", SCREEN, NONE,
     {APP: {"shop": {"force_https_integrations": True}}}, NONE, []),
    ("screen-tls-hsts", SCREEN, TLS, {ENV: {"hsts": True}}, TLS,
     ["design-time", "environment: hsts"]),
    ("screen-cert-env-screens", SCREEN, CERT, {ENV: {"force_https_screens": True}},
     CERT, ["design-time", "environment: force_https_screens"]),
    ("screen-none-everything", SCREEN, NONE,
     {ENV: {"hsts": True, "force_https_screens": True},
      APP: {"shop": {"force_https_screens": True}}}, TLS,
     ["environment: hsts", "environment: force_https_screens",
      "application 'shop': force_https_screens"]),
    ("rest-none-nothing", REST, NONE, {}, NONE, []),
    ("rest-tls-nothing", REST, TLS, {}, TLS, ["design-time"]),
    ("rest-none-hsts", REST, NONE, {ENV: {"hsts": True}}, NONE, []),
    ("rest-none-env-screens", REST, NONE, {ENV: {"force_https_screens": True}},
     NONE, []),
    ("rest-none-env-integrations", REST, NONE,
     {ENV: {"force_https_integrations": True}}, TLS,
     ["environment: force_https_integrations"]),
    ("rest-none-app-integrations", REST, NONE,
     {APP: {"shop": {"force_https_integrations": True}}}, TLS,
     ["application 'shop': force_https_integrations"]),
    ("rest-cert-env-integrations", REST, CERT,
     {ENV: {"force_https_integrations": True}}, CERT,
     ["design-time", "environment: force_https_integrations"]),
    ("soap-none-nothing", SOAP, NONE, {}, NONE, []),
    ("soap-none-hsts", SOAP, NONE, {ENV: {"hsts": True}}, NONE, []),
    ("soap-none-env-integrations", SOAP, NONE,
     {ENV: {"force_https_integrations": True}}, TLS,
     ["environment: force_https_integrations"]),
    ("soap-none-app-integrations", SOAP, NONE,
     {APP: {"shop": {"force_https_integrations": True}}}, TLS,
     ["application 'shop': force_https_integrations"]),
    ("soap-tls-app-screens", SOAP, TLS, {APP: {"shop": {"force_https_screens": True}}},
     TLS, ["design-time"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "design", "settings", "effective", "reasons"),
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_precedence(
    kind: Kind,
    design: HttpSecurity,
    settings: dict[str, t.Any],
    effective: HttpSecurity,
    reasons: list[str],
) -> None:
    policy = resolve(
        "view", Design(kind, design, "view"), parse_settings(settings), "shop"
    )
    assert policy.effective is effective
    assert policy.effective >= design, "overrides only tighten"
    assert len(policy.reasons) == len(reasons)
    for got, expected in zip(policy.reasons, reasons, strict=True):
        assert got.startswith(expected)


def test_design_time_reason_names_origin_kind_endpoint_and_level() -> None:
    design = Design(Kind.SCREEN, HttpSecurity.TLS, "blueprint 'account'")
    policy = resolve("account.login", design, parse_settings({}), "shop")
    assert policy.reasons == (
        "design-time (blueprint 'account'): screen 'account.login' requires tls",
    )
    assert policy.reason == policy.reasons[0]


def test_reason_when_nothing_requires_https() -> None:
    policy = resolve(None, Design(SCREEN, NONE, "default"), parse_settings({}), "shop")
    assert policy.reasons == ()
    assert policy.reason == "nothing requires HTTPS"


# The same table through real requests: plain HTTP to one endpoint per row.
REQUESTS = [
    ("screen-none", "GET", "/", {}, 200),
    ("screen-none-hsts", "GET", "/", {ENV: {"hsts": True}}, 301),
    ("screen-none-app", "GET", "/", {APP: {"shop": {"force_https_screens": True}}},
     301),
    ("screen-none-integrations", "GET", "/",
     {ENV: {"force_https_integrations": True}}, 200),
    ("screen-tls", "GET", "/secure", {}, 301),
    ("rest-none-hsts", "GET", "/api/status", {ENV: {"hsts": True}}, 200),
    ("rest-none-screens", "GET", "/api/status", {ENV: {"force_https_screens": True}},
     200),
    ("rest-none-integrations", "GET", "/api/status",
     {ENV: {"force_https_integrations": True}}, 403),
    ("rest-tls", "GET", "/api/orders", {}, 403),
    ("soap-none", "POST", "/soap/open", {}, 200),
    ("soap-none-app", "POST", "/soap/open",
     {APP: {"shop": {"force_https_integrations": True}}}, 403),
    ("soap-tls", "POST", "/soap", {}, 403),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "settings", "status"),
    [pytest.param(*row[1:], id=row[0]) for row in REQUESTS],
)
def test_requests_follow_the_table(
    app: Flask, method: str, path: str, status: int
) -> None:
    client = app.test_client()
    assert client.open(path, method=method).status_code == status
    # Over HTTPS every row is served.
    secure = client.open(path, method=method, base_url="https://example.com")
    assert secure.status_code == 200
