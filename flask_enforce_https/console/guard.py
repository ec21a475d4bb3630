"""Who gets in, which requests count, and the headers every console
response carries.

Every request is authorized first (401 with the authorizer's challenge, or
403); a POST also needs the editor role, a same-origin ``Sec-Fetch-Site``
or ``Origin`` (judged against the scheme and host the extension worked out
through the trusted proxies, so that it works behind nginx) and a token
signed for the user. Responses forbid framing, inline script and caching.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint, Response, abort, current_app, g, request

from .forgery import check_origin, check_token, make_token
from .roles import ROLES, Role
from .state import console_state

#: Seconds a page's form stays good for.
TOKEN_MAX_AGE = 8 * 3600
TOKEN_FIELD = "console_token"  # noqa: S105 (a field name)

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def install(blueprint: Blueprint) -> None:
    """Guard every view of ``blueprint``."""
    blueprint.before_request(authorize)
    blueprint.after_request(protect)
    blueprint.context_processor(page_context)


def user_name() -> str:
    """The console user's name, as the audit trail records it."""
    return console_state().user(request) or "console user"


def authorize() -> Response | None:
    """Let the request in, or answer 401, 403 or 429 (the authorizer may
    raise :class:`~.limits.TooManyAttempts`)."""
    state = console_state()
    role = state.authorize(request)
    if role is None:
        challenge = getattr(state.authorize, "challenge", None)
        if challenge is None:
            abort(403)
        return current_app.response_class(
            "Sign in to use the console.", 401, {"WWW-Authenticate": challenge}
        )
    if role not in ROLES:
        # An authorizer's mistake must not grant anything.
        abort(403)
    g.console_role = role
    if request.method in ("GET", "HEAD"):
        return None
    if role != "editor":
        abort(403, "Your role may look, not change.")
    problem = check_origin(request)
    if problem is not None:
        abort(403, f"Refused as a cross-site request: {problem}.")
    secret = current_app.config["SECRET_KEY"]
    if not check_token(
        secret, user_name(), request.form.get(TOKEN_FIELD), TOKEN_MAX_AGE
    ):
        abort(
            403, "This form has expired or was not made for you: load the page again."
        )
    return None


def protect(response: Response) -> Response:
    """Add the console's security headers."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def page_context() -> dict[str, t.Any]:
    """What every template gets: the role and the form token."""
    role: Role | None = g.get("console_role")
    token = ""
    if role == "editor":
        token = make_token(current_app.config["SECRET_KEY"], user_name())
    return {
        "console_endpoints": console_state().endpoints,
        "console_role": role,
        "console_token": token,
        "token_field": TOKEN_FIELD,
    }
