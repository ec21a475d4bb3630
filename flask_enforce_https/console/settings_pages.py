"""The settings pages: the environment's and each application's form,
"Review changes", and "Apply".

The review is worked out again on apply, from the values the form sends
and the settings in force then: nothing the browser says about what a
change does is trusted. Apply writes against the version the page was
loaded at, so that a change someone made meanwhile is shown, not lost.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..errors import ConflictError, SettingsError
from .context import app_state, the_app, writer, writer_or_409
from .forms import FormError, fields_of, read_form, shown
from .gates import Gate, gates
from .guard import user_name
from .review import Review, review
from .state import console_state

Page = str | tuple[str, int] | Response


def register(blueprint: Blueprint) -> None:
    """Add the settings pages to ``blueprint``."""
    blueprint.add_url_rule(
        "/environment",
        "environment",
        environment,
        methods=["GET", "POST"],
    )
    blueprint.add_url_rule(
        "/applications/<name>",
        "application",
        application,
        methods=["GET", "POST"],
    )


def environment() -> Page:
    """The environment's settings."""
    return _settings("environment")


def application(name: str) -> Page:
    """One application's settings."""
    known = {app_state().config.application}
    found = writer()
    if found is not None:
        known |= found.known_applications()
    if name not in known:
        abort(404)
    return _settings(name)


def _section(document: t.Mapping[str, t.Any], scope: str) -> dict[str, t.Any]:
    if scope == "environment":
        return dict(document.get("environment", {}))
    return dict(document.get("applications", {}).get(scope, {}))


def _form_page(
    scope: str,
    section: t.Mapping[str, object],
    version: str,
    *,
    error: str | None = None,
    status: int = 200,
    applied: str | None = None,
) -> tuple[str, int]:
    page = render_template(
        "enforce_https_console/settings.html",
        scope=scope,
        fields=fields_of(scope),
        values=section,
        shown=shown,
        version=version,
        writable=writer() is not None,
        error=error,
        applied=applied,
    )
    return page, status


def _settings(scope: str) -> Page:
    if request.method == "GET":
        found = writer()
        if found is None:
            document = _in_force_document()
            version = ""
        else:
            current = found.read()
            document, version = current.document, current.version
        return _form_page(
            scope,
            _section(document, scope),
            version,
            applied=request.args.get("applied"),
        )
    found = writer_or_409()
    current = found.read()
    version = request.form.get("version", "")
    if not version:
        abort(400, "The form does not say which settings it was made against.")
    try:
        values = read_form(scope, request.form, _section(current.document, scope))
        proposed = review(
            the_app(),
            app_state(),
            current.document,
            scope,
            values,
            predict=console_state().endpoints,
        )
    except (FormError, SettingsError) as e:
        asked = {k: v for k, v in request.form.items() if not k.startswith("confirm")}
        return _form_page(scope, asked, version, error=str(e), status=400)
    found_gates = gates(the_app(), app_state(), request, current.document, proposed)
    if request.form.get("action") != "apply":
        return _review_page(proposed, found_gates, version)
    return _apply(scope, proposed, found_gates, version)


def _review_page(
    proposed: Review,
    found: list[Gate],
    version: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "enforce_https_console/review.html",
        review=proposed,
        gates=found,
        fields=fields_of(proposed.scope),
        shown=shown,
        version=version,
        error=error,
        reason=request.form.get("reason", ""),
    )
    return page, status


def _apply(scope: str, proposed: Review, found: list[Gate], version: str) -> Page:
    refused = [g for g in found if g.refused]
    if refused:
        return _review_page(
            proposed, found, version, error=refused[0].refused, status=400
        )
    missing = [g for g in found if request.form.get(g.field) != "yes"]
    if missing:
        return _review_page(
            proposed,
            found,
            version,
            error="Confirm each warning before applying.",
            status=400,
        )
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _review_page(
            proposed,
            found,
            version,
            error="Say why: the reason is recorded with the change.",
            status=400,
        )
    if not proposed.changes:
        return redirect(_url(scope, "none"), code=303)
    try:
        outcome = writer_or_409().change(
            scope,
            proposed.values,
            expected=version,
            author=user_name(),
            reason=reason,
            origin="console",
        )
    except ConflictError as e:
        page = render_template(
            "enforce_https_console/conflict.html", error=e, review=proposed
        )
        return page, 409
    except SettingsError as e:
        return _review_page(proposed, found, version, error=str(e), status=400)
    applied = str(outcome.revision) if outcome.revision is not None else "none"
    return redirect(_url(scope, applied), code=303)


def _url(scope: str, applied: str) -> str:
    if scope == "environment":
        return url_for(".environment", applied=applied)
    return url_for(".application", name=scope, applied=applied)


def _in_force_document() -> dict[str, t.Any]:
    # Settings from a mapping in the config: shown, not changed.
    value = the_app().config.get("ENFORCE_HTTPS_SETTINGS")
    return dict(value) if isinstance(value, t.Mapping) else {}
