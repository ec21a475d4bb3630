"""Deploy check of the redirect host: pinned by the config, or taken from
the request."""

from __future__ import annotations

from flask import Flask

from ..declarations import Kind
from ..state import AppState
from .registry import Context, register

REDIRECT_HOST_UNPINNED = "redirect-host-unpinned"


def pinned_by(app: Flask, state: AppState) -> str | None:
    """Return the config key that pins the host of redirects, if any.

    ``SERVER_NAME`` pins it only without host or subdomain matching, where
    it is the one host the app answers to.

    :param app: The application.
    :param state: Its extension state.
    """
    if state.config.host:
        return "ENFORCE_HTTPS_HOST"
    if app.config.get("TRUSTED_HOSTS"):
        return "TRUSTED_HOSTS"
    if app.config.get("SERVER_NAME") and not (
        app.subdomain_matching or app.url_map.host_matching
    ):
        return "SERVER_NAME"
    return None


@register(
    REDIRECT_HOST_UNPINNED,
    "warning",
    "Set ENFORCE_HTTPS_HOST to the host redirects go to, or TRUSTED_HOSTS to"
    " the hosts clients use.",
)
def redirect_host_unpinned(context: Context) -> str | None:
    """Redirects whose host comes from the request, when any can happen."""
    if pinned_by(context.app, context.state) is not None:
        return None
    redirected = sorted(
        {
            p.endpoint or ""
            for p in context.policies
            if p.kind is Kind.SCREEN and p.requires_tls
        }
    )
    if context.snapshot.policy(None).requires_tls:
        redirected.append("URLs that match no rule")
    if not redirected:
        return None
    return (
        "nothing pins the host of redirects to HTTPS (ENFORCE_HTTPS_HOST,"
        f" TRUSTED_HOSTS, SERVER_NAME): a {context.state.config.redirect_code} redirect"
        " takes its host from the request, and browsers and caches can keep"
        " it; redirected: " + ", ".join(redirected)
    )
