"""Deploy checks of werkzeug's ProxyFix in the WSGI chain: what it no
longer makes the extension trust."""

from __future__ import annotations

import inspect

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ..middleware import HTTPSMiddleware
from .registry import Context, register

PROXYFIX_NO_TRUSTED_PROXIES = "proxyfix-no-trusted-proxies"
PROXYFIX_IGNORED = "proxyfix-ignored"

# Middlewares wrap a handful deep; the bound stops a chain with a cycle.
_DEPTH = 32
_COUNTS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def proxy_fixes(app: Flask) -> list[tuple[ProxyFix, str]]:
    """Return each ProxyFix in ``app``'s WSGI chain, outermost first, with
    its position: ``"in front of"`` the extension's middleware (it runs
    first) or ``"behind"`` it.

    The chain is followed through ``.wsgi_app`` (the extension's middleware)
    and ``.app`` (ProxyFix and most other middlewares).

    :param app: The application.
    """
    found = []
    position = "in front of"
    seen = set()
    current: object = app.wsgi_app
    for _ in range(_DEPTH):
        if current is None or inspect.ismethod(current) or id(current) in seen:
            break  # Flask's own wsgi_app, the end of the chain
        seen.add(id(current))
        if isinstance(current, HTTPSMiddleware):
            position = "behind"
            current = current.wsgi_app
        elif isinstance(current, ProxyFix):
            found.append((current, position))
            current = current.app
        else:
            current = getattr(current, "app", None) or getattr(
                current, "wsgi_app", None
            )
    return found


def _described(fix: ProxyFix) -> str:
    counts = [f"{name}={getattr(fix, name)}" for name in _COUNTS if getattr(fix, name)]
    return f"ProxyFix({', '.join(counts)})"


@register(
    PROXYFIX_NO_TRUSTED_PROXIES,
    "error",
    "List the proxies' addresses in the environment's trusted_proxies.",
)
def no_trusted_proxies(context: Context) -> str | None:
    """ProxyFix told to believe the scheme or host, and no trusted proxy:
    proxied HTTPS counts as HTTP."""
    if context.snapshot.trusted:
        return None
    fixes = [
        f"{_described(fix)} is {position} the extension"
        for fix, position in proxy_fixes(context.app)
        if fix.x_proto or fix.x_host
    ]
    if not fixes:
        return None
    return (
        "; ".join(fixes) + ", but trusted_proxies is empty: the extension"
        " believes forwarded headers only from trusted_proxies, so requests"
        " the proxy received over HTTPS count as HTTP (screens that need TLS"
        " redirect in a loop, integrations are refused)"
    )


@register(
    PROXYFIX_IGNORED,
    "warning",
    "Keep ProxyFix only for X-Forwarded-For or X-Forwarded-Prefix (x_for,"
    " x_prefix; x_proto=0, x_host=0), or remove it.",
)
def ignored(context: Context) -> str | None:
    """ProxyFix anywhere: the extension does not go by what it rewrote."""
    fixes = [
        f"{_described(fix)} is {position} the extension"
        for fix, position in proxy_fixes(context.app)
    ]
    if not fixes:
        return None
    return (
        "; ".join(fixes) + ": the extension judges requests by what the"
        " server received, ignoring what ProxyFix rewrote, believes forwarded"
        " headers only from trusted_proxies, and gives the app the client's"
        " scheme and host itself"
    )
