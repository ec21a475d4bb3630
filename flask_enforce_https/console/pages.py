"""The console's pages that look: overview, applications, endpoints,
explain, certificates and history (with revert)."""

from __future__ import annotations

import datetime
import typing as t
from collections import Counter

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..checks import app_hosts, certificate_findings
from ..errors import (
    ConflictError,
    EnforceHTTPSError,
    RevisionError,
    SettingsError,
)
from ..levels import HttpSecurity
from ..report import BadURL, endpoint_rows, explanation
from .context import app_state, the_app, writer, writer_or_409
from .guard import user_name
from .state import console_state

KINDS = ("screen", "rest", "soap")
LEVELS = tuple(level.value for level in HttpSecurity)


def register(blueprint: Blueprint) -> None:
    """Add the pages to ``blueprint``."""
    blueprint.add_url_rule("/", "overview", overview)
    blueprint.add_url_rule("/applications", "applications", applications)
    blueprint.add_url_rule("/endpoints", "endpoints", endpoints)
    blueprint.add_url_rule("/explain", "explain", explain)
    blueprint.add_url_rule("/certificates", "certificates", certificates)
    blueprint.add_url_rule("/history", "history", history)
    blueprint.add_url_rule("/history/revert", "revert", revert, methods=["POST"])
    # Every URL under the prefix is the console's: an unknown one is a 404
    # behind the same sign-in and with the same headers.
    blueprint.add_url_rule("/<path:unknown>", "unknown", unknown)


def unknown(unknown: str) -> t.NoReturn:
    """No such page."""
    abort(404)


def _findings() -> list[t.Any] | None:
    config = app_state().config
    if config.certificate is None:
        return None
    return certificate_findings(
        config.certificate,
        config.certificate_key,
        config.ca_bundle,
        app_hosts(the_app()),
        datetime.datetime.now(datetime.timezone.utc),
        config.expiry_warning_days,
    )


def _processes() -> t.Any:
    source = app_state().source
    store = getattr(source, "store", None)
    if store is None:
        return None
    try:
        return store.status()
    except EnforceHTTPSError:  # a page that looks must not fail
        return None


def overview() -> str:
    """Where the settings come from, what is in force, who lags behind."""
    state = app_state()
    findings = _findings()
    counts = Counter(f.severity for f in findings or ())
    return render_template(
        "enforce_https_console/overview.html",
        application=state.config.application,
        status=state.source.status(),
        writable=writer() is not None,
        store_status=_processes(),
        findings=findings,
        counts=counts,
    )


def applications() -> str:
    """Every application the settings or the store know."""
    state = app_state()
    found = writer()
    names = {state.config.application}
    if found is not None:
        names |= found.known_applications()
    names |= set(state.snapshot().settings.applications)
    return render_template(
        "enforce_https_console/applications.html",
        names=sorted(names),
        this=state.config.application,
        settings=state.snapshot().settings,
    )


def _in_an_app() -> None:
    # A central console is an app of its own: its endpoints are nobody's.
    if not console_state().endpoints:
        abort(404)


def endpoints() -> str:
    """The ``show`` table, filterable, and a matrix of kinds by level."""
    _in_an_app()
    rows = endpoint_rows(the_app(), app_state())
    kind = request.args.get("kind", "")
    level = request.args.get("level", "")
    text = request.args.get("q", "").strip()
    shown = [
        row
        for row in rows
        if (not kind or row["kind"] == kind)
        and (not level or row["effective"] == level)
        and (not text or text in row["endpoint"] or text in row["rule"])
    ]
    matrix = Counter((row["kind"], row["effective"]) for row in rows)
    return render_template(
        "enforce_https_console/endpoints.html",
        rows=shown,
        total=len(rows),
        matrix=matrix,
        kinds=KINDS,
        levels=LEVELS,
        kind=kind,
        level=level,
        text=text,
    )


def explain() -> str | tuple[str, int]:
    """What a URL gets, and why."""
    _in_an_app()
    url = request.args.get("url", "").strip()
    method = request.args.get("method", "GET").strip().upper() or "GET"
    result = error = None
    if url:
        try:
            result = explanation(the_app(), app_state(), url, method)
        except BadURL as e:
            error = str(e)
    page = render_template(
        "enforce_https_console/explain.html",
        url=url,
        method=method,
        result=result,
        error=error,
    )
    return (page, 400) if error else page


def certificates() -> str:
    """The certificate check's findings."""
    return render_template(
        "enforce_https_console/certificates.html",
        findings=_findings(),
        hosts=app_hosts(the_app()),
        certificate=app_state().config.certificate,
    )


def history() -> str:
    """Who changed what, when and why, newest first, with revert."""
    found = writer()
    entries: list[t.Any] = []
    version = ""
    if found is not None:
        entries = list(reversed(found.history().entries))
        version = found.read().version
    revisions: dict[int, list[t.Any]] = {}
    for entry in entries:
        revisions.setdefault(entry.revision, []).append(entry)
    return render_template(
        "enforce_https_console/history.html",
        revisions=revisions,
        version=version,
        writable=found is not None,
        reverted=request.args.get("reverted"),
    )


def revert() -> Response | tuple[str, int]:
    """Make the settings what they were right after a revision."""
    target = request.form.get("revision", "")
    reason = request.form.get("reason", "").strip()
    if not target.isdigit():
        abort(400, "Name the revision to revert to.")
    if not reason:
        abort(400, "Say why: the reason is recorded with the revert.")
    expected = request.form.get("version", "")
    if not expected:
        abort(400, "The form does not say which settings it was made against.")
    found = writer_or_409()
    try:
        outcome = found.revert(
            int(target),
            expected=expected,
            author=user_name(),
            reason=reason,
        )
    except ConflictError as e:
        page = render_template("enforce_https_console/conflict.html", error=e)
        return page, 409
    except (RevisionError, SettingsError) as e:
        abort(400, str(e))
    return redirect(url_for(".history", reverted=outcome.revision or "none"), code=303)
