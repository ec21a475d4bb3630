"""Deploy checks of HSTS: preload requirements, integrations left on HTTP."""

from __future__ import annotations

from .registry import Context, register

HSTS_PRELOAD_MAX_AGE = "hsts-preload-max-age"
HSTS_PRELOAD_SUBDOMAINS = "hsts-preload-subdomains"
HSTS_INTEGRATIONS_HTTP = "hsts-integrations-http"

ONE_YEAR = 31536000


@register(
    HSTS_PRELOAD_MAX_AGE,
    "warning",
    f"Set hsts_max_age to {ONE_YEAR} or more.",
)
def preload_max_age(context: Context) -> str | None:
    """Preload lists require a ``max-age`` of a year."""
    environment = context.environment
    if not (environment.hsts and environment.hsts_preload):
        return None
    if environment.hsts_max_age >= ONE_YEAR:
        return None
    return (
        f"environment.hsts_max_age is {environment.hsts_max_age}"
        " with hsts_preload; preload lists require a year"
    )


@register(
    HSTS_PRELOAD_SUBDOMAINS,
    "warning",
    "Set hsts_include_subdomains = true (every subdomain must then serve HTTPS).",
)
def preload_subdomains(context: Context) -> str | None:
    """Preload lists require ``includeSubDomains``."""
    environment = context.environment
    if not (environment.hsts and environment.hsts_preload):
        return None
    if environment.hsts_include_subdomains:
        return None
    return "hsts_preload is on without hsts_include_subdomains; preload lists refuse it"


@register(
    HSTS_INTEGRATIONS_HTTP,
    "warning",
    "Set force_https_integrations = true, or declare them with level 'tls'.",
)
def integrations_http(context: Context) -> str | None:
    """HSTS does not force integrations: name those still on HTTP."""
    if not context.environment.hsts:
        return None
    open_apis = sorted(
        {
            p.endpoint or ""
            for p in context.policies
            if p.kind.is_integration and not p.requires_tls
        }
    )
    if not open_apis:
        return None
    return "hsts is on but these integrations still accept HTTP: " + ", ".join(
        open_apis
    )
