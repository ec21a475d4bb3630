"""Deploy checks of cookies: not ``Secure`` where screens are forced, or
``Secure`` where screens are still on HTTP."""

from __future__ import annotations

from ..declarations import Kind
from .registry import Context, register

COOKIES_NOT_SECURE = "cookies-not-secure"
COOKIES_SECURE_HTTP_SCREENS = "cookies-secure-http-screens"


@register(
    COOKIES_NOT_SECURE,
    "warning",
    "Set secure_cookies = true, or SESSION_COOKIE_SECURE = True.",
)
def not_secure(context: Context) -> str | None:
    """Screens forced to HTTPS, with cookies a plain-HTTP request could get."""
    environment = context.environment
    forced = (
        environment.hsts
        or environment.force_https_screens
        or context.own.force_https_screens
    )
    if (
        not forced
        or context.snapshot.secure_cookies
        or context.app.config.get("SESSION_COOKIE_SECURE")
    ):
        return None
    return (
        "screens are forced to HTTPS but cookies are not marked"
        " Secure (secure_cookies off, SESSION_COOKIE_SECURE false)"
    )


@register(
    COOKIES_SECURE_HTTP_SCREENS,
    "warning",
    "Force HTTPS for screens, or turn secure_cookies off.",
)
def secure_http_screens(context: Context) -> str | None:
    """``Secure`` cookies, which screens served over HTTP never get."""
    if not context.snapshot.secure_cookies:
        return None
    open_screens = sorted(
        {
            p.endpoint or ""
            for p in context.policies
            if p.kind is Kind.SCREEN and not p.requires_tls
        }
    )
    if not open_screens:
        return None
    return (
        "secure_cookies is on, but these screens are still served over HTTP"
        " and will not get their cookies: " + ", ".join(open_screens)
    )
