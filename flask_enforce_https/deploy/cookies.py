"""Deploy checks of cookies: a session cookie that is not ``Secure`` while
screens are forced to HTTPS, or while screens that need TLS share a host
with screens still served over plain HTTP.

A browser sends a cookie without ``Secure`` with every request to its host,
``http://`` ones included: the one a forced screen redirects, and every
request to a screen that plain HTTP still serves.
"""

from __future__ import annotations

from ..declarations import Kind
from .registry import Context, register

COOKIES_NOT_SECURE = "cookies-not-secure"
COOKIES_LEAK_TO_HTTP_SCREENS = "cookies-leak-to-http-screens"

_NOT_SECURE = (
    "the session cookie is not marked Secure"
    " (secure_cookies off, SESSION_COOKIE_SECURE false)"
)


def _session_cookie_secure(context: Context) -> bool:
    """Whether the session cookie gets ``Secure``: from Flask's config, or
    from the extension on every cookie sent over HTTPS."""
    return bool(
        context.snapshot.secure_cookies
        or context.app.config.get("SESSION_COOKIE_SECURE")
    )


@register(
    COOKIES_NOT_SECURE,
    "warning",
    "Set secure_cookies = true, or SESSION_COOKIE_SECURE = True.",
)
def not_secure(context: Context) -> str | None:
    """Screens forced to HTTPS, with a session cookie that a plain-HTTP
    request still carries before it is redirected."""
    environment = context.environment
    forced = (
        environment.hsts
        or environment.force_https_screens
        or context.own.force_https_screens
    )
    if not forced or _session_cookie_secure(context):
        return None
    return (
        f"screens are forced to HTTPS, but {_NOT_SECURE}: browsers still send it"
        " in cleartext with any plain-HTTP request to this host, before the"
        " redirect"
    )


@register(
    COOKIES_LEAK_TO_HTTP_SCREENS,
    "warning",
    "Set SESSION_COOKIE_SECURE = True, or secure_cookies = true: browsers then"
    " send the session cookie over HTTPS only.",
)
def leak_to_http_screens(context: Context) -> str | None:
    """A session cookie without ``Secure``, set by screens that need TLS and
    sent by browsers to the screens that plain HTTP still serves."""
    if _session_cookie_secure(context):
        return None
    screens = [p for p in context.policies if p.kind is Kind.SCREEN]
    if not any(p.requires_tls for p in screens):
        return None  # no cookie is set over HTTPS by a screen: nothing leaks
    open_screens = sorted({p.endpoint or "" for p in screens if not p.requires_tls})
    if not open_screens:
        return None
    return (
        f"{_NOT_SECURE}, so once a screen that requires TLS sets it over HTTPS,"
        " browsers send it in cleartext to these screens, still served over"
        " plain HTTP: " + ", ".join(open_screens)
    )
