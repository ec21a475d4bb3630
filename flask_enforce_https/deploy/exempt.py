"""Deploy checks of ``exempt_paths``: entries that do nothing, or more than
the administrator may think.

An entry exempts a path only from what the administrator forced; an
environment-wide entry is matched against each application's own routes, so
these checks say which endpoints of this application each entry reaches.
"""

from __future__ import annotations

from ..declarations import Kind
from .registry import Context, register

EXEMPT_PATH_DESIGN_TLS = "exempt-path-design-tls"
EXEMPT_PATH_NO_ROUTE = "exempt-path-no-route"
EXEMPT_PATH_NO_ROUTE_ENVIRONMENT = "exempt-path-no-route-environment"
EXEMPT_PATH_HSTS = "exempt-path-hsts"


def reached(context: Context) -> list[tuple[str, str, list[str]]]:
    """Return each entry, its scope, and the endpoints of this application
    it reaches.

    :param context: What the checks read.
    """
    return context.snapshot.exempt_reach(context.app.url_map.iter_rules())


def _listed(found: list[str]) -> str | None:
    return "; ".join(found) if found else None


@register(
    EXEMPT_PATH_DESIGN_TLS,
    "warning",
    "Drop the entry, or narrow it to the paths that are open by design; an"
    " exempt path never lets HTTP through to an endpoint that requires TLS.",
)
def design_tls(context: Context) -> str | None:
    """Entries that reach endpoints whose design requires TLS: no effect."""
    found = []
    for scope, entry, endpoints in reached(context):
        tls = [
            e for e in endpoints if context.snapshot.policy(e).design.level.requires_tls
        ]
        if tls:
            found.append(f"{entry!r} ({scope}): {', '.join(tls)}")
    listed = _listed(found)
    if listed is None:
        return None
    return (
        "these exempt_paths entries have no effect on endpoints whose design"
        f" requires TLS: {listed}"
    )


@register(
    EXEMPT_PATH_NO_ROUTE,
    "warning",
    "Fix the path (a prefix ends in '/'), or drop the entry.",
)
def no_route(context: Context) -> str | None:
    """Application entries that match no route of the application."""
    found = [
        repr(entry)
        for scope, entry, endpoints in reached(context)
        if scope != "environment" and not endpoints
    ]
    listed = _listed(found)
    return None if listed is None else f"exempt_paths entries match no route: {listed}"


@register(
    EXEMPT_PATH_NO_ROUTE_ENVIRONMENT,
    "info",
    "Nothing to do if another application reading the settings has the path.",
)
def no_route_environment(context: Context) -> str | None:
    """Environment entries that match no route of this application."""
    found = [
        repr(entry)
        for scope, entry, endpoints in reached(context)
        if scope == "environment" and not endpoints
    ]
    listed = _listed(found)
    if listed is None:
        return None
    return f"environment exempt_paths entries match no route of this app: {listed}"


@register(
    EXEMPT_PATH_HSTS,
    "warning",
    "Browsers that have seen HSTS for the host use HTTPS for these paths"
    " anyway; exempt only what non-browser clients (load balancers, ACME)"
    " fetch.",
)
def exempt_screens_with_hsts(context: Context) -> str | None:
    """Entries that exempt screens from the HTTPS that ``hsts`` forces."""
    if not context.environment.hsts:
        return None
    found = []
    for scope, entry, endpoints in reached(context):
        screens = [
            e
            for e in endpoints
            if (policy := context.snapshot.policy(e)).kind is Kind.SCREEN
            and not policy.design.level.requires_tls
        ]
        if screens:
            found.append(f"{entry!r} ({scope}): {', '.join(screens)}")
    listed = _listed(found)
    if listed is None:
        return None
    return f"hsts is on, and these exempt_paths entries exempt screens: {listed}"
