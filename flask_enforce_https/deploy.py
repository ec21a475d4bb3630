"""Deploy checks over the effective settings: combinations that work in
development and fail in production."""

from __future__ import annotations

from flask import Flask

from .declarations import Kind
from .findings import Finding
from .levels import HttpSecurity
from .state import AppState

ONE_YEAR = 31536000


def deploy_findings(app: Flask, state: AppState) -> list[Finding]:
    """Check the effective settings for combinations that fail in production.

    :param app: The application.
    :param state: Its extension state.
    """
    snapshot = state.snapshot()
    environment = snapshot.settings.environment
    own = snapshot.settings.application(state.application)
    policies = [
        snapshot.policy(app, rule.endpoint)
        for rule in app.url_map.iter_rules()
        # Static files need no cookies; exempt paths are open on purpose.
        if rule.endpoint != "static"
        and not rule.endpoint.endswith(".static")
        and not snapshot.rule_is_exempt(rule.rule)
    ]
    open_screens = sorted(
        {
            p.endpoint or ""
            for p in policies
            if p.kind is Kind.SCREEN and not p.requires_tls
        }
    )
    open_apis = sorted(
        {
            p.endpoint or ""
            for p in policies
            if p.kind.is_integration and not p.requires_tls
        }
    )
    found = []
    if environment.hsts and environment.hsts_preload:
        if environment.hsts_max_age < ONE_YEAR:
            found.append(
                Finding(
                    "hsts-preload-max-age",
                    "warning",
                    f"environment.hsts_max_age is {environment.hsts_max_age}"
                    " with hsts_preload; preload lists require a year",
                    f"Set hsts_max_age to {ONE_YEAR} or more.",
                )
            )
        if not environment.hsts_include_subdomains:
            found.append(
                Finding(
                    "hsts-preload-subdomains",
                    "warning",
                    "hsts_preload is on without hsts_include_subdomains;"
                    " preload lists refuse it",
                    "Set hsts_include_subdomains = true (every subdomain"
                    " must then serve HTTPS).",
                )
            )
    if environment.hsts and open_apis:
        found.append(
            Finding(
                "hsts-integrations-http",
                "warning",
                "hsts is on but these integrations still accept HTTP: "
                + ", ".join(open_apis),
                "Set force_https_integrations = true, or declare them"
                " with level 'tls'.",
            )
        )
    forced = (
        environment.hsts or environment.force_https_screens or own.force_https_screens
    )
    if (
        forced
        and not snapshot.secure_cookies
        and not app.config.get("SESSION_COOKIE_SECURE")
    ):
        found.append(
            Finding(
                "cookies-not-secure",
                "warning",
                "screens are forced to HTTPS but cookies are not marked"
                " Secure (secure_cookies off, SESSION_COOKIE_SECURE false)",
                "Set secure_cookies = true, or SESSION_COOKIE_SECURE = True.",
            )
        )
    if snapshot.secure_cookies and open_screens:
        found.append(
            Finding(
                "cookies-secure-http-screens",
                "warning",
                "secure_cookies is on, but these screens are still served"
                " over HTTP and will not get their cookies: " + ", ".join(open_screens),
                "Force HTTPS for screens, or turn secure_cookies off.",
            )
        )
    named = set(snapshot.settings.applications)
    if len(named) == 1 and state.application not in named:
        found.append(
            Finding(
                "settings-other-application",
                "warning",
                f"the settings name only application {next(iter(named))!r},"
                f" not this one ({state.application!r})",
                "Fix the name in [applications.<name>], or set"
                " ENFORCE_HTTPS_APPLICATION.",
            )
        )
    needs_ca = sorted(
        {
            p.endpoint or ""
            for p in policies
            if p.effective is HttpSecurity.TLS_CLIENT_CERT
        }
    )
    if needs_ca and state.client_ca is None:
        found.append(
            Finding(
                "client-ca-missing",
                "error",
                "these endpoints need client certificates but no client"
                " CA is configured: " + ", ".join(needs_ca),
                "Set ENFORCE_HTTPS_CLIENT_CA to the PEM bundle of the CAs"
                " that issue client certificates.",
            )
        )
    return found
