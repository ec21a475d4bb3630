"""Deploy checks of declarations written where they are ignored (see
:mod:`flask_enforce_https.placement`)."""

from __future__ import annotations

from ..placement import (
    DECLARATION_NOT_A_VIEW,
    DECLARATION_ON_METHOD,
    NOT_A_VIEW_HINT,
    declared_methods,
    describe,
    unrouted,
)
from .registry import Context, register

__all__ = ["DECLARATION_NOT_A_VIEW", "DECLARATION_ON_METHOD"]


@register(
    DECLARATION_ON_METHOD,
    "error",
    "Declare the class (@https.rest() on the class), or put the declaration in"
    " its decorators = [...].",
)
def on_method(context: Context) -> str | None:
    """Methods of class-based views added after init_app: the first request
    will fail on them."""
    methods = declared_methods(context.app)
    if not methods:
        return None
    return (
        "declared on a method of a class-based view, where it is ignored"
        " (the first request will fail): "
        + ", ".join(f"{label} ({line})" for label, _, line in methods)
    )


@register(DECLARATION_NOT_A_VIEW, "error", NOT_A_VIEW_HINT)
def not_a_view(context: Context) -> str | None:
    """Declared functions that no endpoint calls as its view."""
    functions = unrouted(context.app)
    if not functions:
        return None
    return "declared, but no endpoint's view, so ignored: " + ", ".join(
        map(describe, functions)
    )
