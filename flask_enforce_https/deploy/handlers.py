"""Deploy check of the application's error handlers: a generic one does not
replace the extension's refusals."""

from __future__ import annotations

from werkzeug.exceptions import Forbidden, HTTPException

from .registry import Context, register

REFUSAL_HANDLER_GENERIC = "refusal-handler-generic"
_GENERIC = (Forbidden, HTTPException, Exception)


@register(
    REFUSAL_HANDLER_GENERIC,
    "info",
    "To change how refusals look, register a handler for"
    " flask_enforce_https.HTTPSRequired (or UntrustedHost) itself.",
)
def generic_handler(context: Context) -> str | None:
    """Handlers for 403 or every HTTP error, which refusals do not reach."""
    found = []
    for name, by_code in context.app.error_handler_spec.items():
        for code, handlers in by_code.items():
            generic = [c.__name__ for c in handlers if code == 403 or c in _GENERIC]
            if generic:
                where = "the app" if name is None else f"blueprint {name!r}"
                found.append(f"{', '.join(sorted(generic))} on {where}")
    if not found:
        return None
    return (
        "error handlers for 403 or every HTTP error ("
        + "; ".join(found)
        + ") do not replace the extension's refusals, so that an API's"
        " clients keep their problem+json or SOAP Fault"
    )
