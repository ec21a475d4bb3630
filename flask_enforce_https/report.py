"""What the ``flask https`` commands report: the effective settings of
every endpoint, and what a given request would get.

Both call the functions the request hook calls, so what they report is what
requests get.
"""

from __future__ import annotations

import typing as t
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, Request
from flask.testing import EnvironBuilder
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.urls import iri_to_uri

from .enforce import check, endpoint_of_url
from .levels import HttpSecurity
from .middleware import judge
from .policy import Policy
from .snapshot import Snapshot
from .state import AppState


class BadURL(ValueError):
    """The URL to explain is not an absolute HTTP or HTTPS URL, or not under
    the script name."""


def _why_served(secure: bool, forced: Policy, policy: Policy) -> str:
    if not secure and forced.requires_tls and not policy.requires_tls:
        return "the path is in exempt_paths, exempt from what the administrator forced"
    if not secure:
        return "nothing requires HTTPS"
    if policy.effective is HttpSecurity.TLS_CLIENT_CERT:
        return "the request is HTTPS with a valid client certificate"
    return "the request is HTTPS"


def endpoint_rows(app: Flask, state: AppState) -> list[dict[str, t.Any]]:
    """Return one row per URL rule: what it requires and why.

    :param app: The application.
    :param state: Its extension state.
    """
    snapshot = state.snapshot()
    rows = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        policy = snapshot.rule_policy(rule)
        rows.append(
            {
                "application": state.config.application,
                "endpoint": rule.endpoint,
                "rule": rule.rule,
                "methods": sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}),
                "kind": policy.kind.value,
                "design": policy.design.level.value,
                "effective": policy.effective.value,
                "reasons": list(policy.reasons),
                "hsts": snapshot.hsts_header is not None,
                "exempt": policy.exempt,
            }
        )
    return rows


class _Target(t.NamedTuple):
    """Where a request goes, split as a WSGI server splits it."""

    scheme: str
    host: str
    script_name: str
    path_info: str
    query: str
    #: The path and query exactly as the client sends them.
    raw: str


def _wsgi(text: str) -> str:
    # PEP 3333: environ strings carry the request's bytes as latin-1.
    return unquote_to_bytes(text).decode("latin-1")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _target(url: str, script_name: str | None, application_root: str) -> _Target:
    try:
        # As a client sends it: non-ASCII percent-encoded as UTF-8.
        parts = urlsplit(iri_to_uri(url.strip()))
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as e:
        if "port" in str(e).lower():
            raise BadURL(
                f"invalid port in URL {url!r}: expected a number from 1 to 65535"
            ) from None
        raise BadURL(f"invalid URL {url!r}: {e}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadURL(f"expected an absolute http or https URL, got {url!r}")
    raw_path = parts.path or "/"
    path = _wsgi(raw_path)
    if script_name is None:
        # Flask's APPLICATION_ROOT says where the app is mounted.
        prefix = _wsgi(iri_to_uri((application_root or "/").rstrip("/")))
        if not prefix or not _under(path, prefix):
            prefix = ""
    else:
        prefix = _wsgi(iri_to_uri(script_name.rstrip("/")))
        if prefix and not prefix.startswith("/"):
            raise BadURL(
                f"expected a script name starting with '/', got {script_name!r}"
            )
        if prefix and not _under(path, prefix):
            raise BadURL(
                f"the URL's path {raw_path!r} is not under the script name"
                f" {script_name!r}, where the application is mounted"
            )
    raw = raw_path + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]  # clients never send user info
    return _Target(parts.scheme, host, prefix, path[len(prefix) :], parts.query, raw)


def _routed_endpoint(app: Flask, snapshot: Snapshot, request: Request) -> str | None:
    """The endpoint of the request's URL, as the hook finds it: also for a
    URL that matched with another method (405) or only after Flask's slash
    redirect; an integration among several endpoints wins."""
    error = request.routing_exception
    if isinstance(error, (MethodNotAllowed, RequestRedirect)):
        return endpoint_of_url(app, snapshot, request, error)
    return request.endpoint if error is None else None


def _flask_answer(request: Request, endpoint: str | None) -> dict[str, t.Any]:
    """What Flask answers a request the extension lets through, when routing
    already decided it."""
    error = request.routing_exception
    if error is None:
        return {"outcome": "served", "status": None, "location": None}
    if isinstance(error, RequestRedirect):
        return {
            "outcome": "redirected",
            "status": error.code,
            "location": error.new_url,
            "reason": "Flask redirects to the URL's canonical form"
            " (a trailing slash, or single slashes)",
        }
    if isinstance(error, NotFound):
        why = "no route matches the path"
    elif isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(error.valid_methods or ()))
        why = f"{endpoint} does not allow {request.method}; it allows {allowed}"
    else:
        why = error.description or error.name
    code = error.code
    return {
        "outcome": error.name.lower(),
        "status": code,
        "location": None,
        "reason": f"Flask answers {code}: {why}",
    }


def explanation(
    app: Flask,
    state: AppState,
    url: str,
    method: str = "GET",
    headers: t.Sequence[tuple[str, str]] = (),
    remote_addr: str = "127.0.0.1",
    script_name: str | None = None,
) -> dict[str, t.Any]:
    """Say what the running rules would do with a request, and why.

    The request is built as a WSGI server would build it and goes through
    the hook's own :func:`~flask_enforce_https.enforce.check`; no view runs.
    When the extension lets it through, routing may still answer: 404 for no
    route, 405 for another method, Flask's redirect to a URL's canonical
    form.

    :param app: The application.
    :param state: Its extension state.
    :param url: The absolute ``http://`` or ``https://`` URL.
    :param method: The request method.
    :param headers: Extra request headers.
    :param remote_addr: The peer address the request comes from.
    :param script_name: Where the application is mounted (``SCRIPT_NAME``),
        a prefix of the URL's path; ``None`` takes it from the URL when it
        is under ``APPLICATION_ROOT``.
    :raises BadURL: The URL, its port or the script name is not valid.
    """
    target = _target(url, script_name, app.config.get("APPLICATION_ROOT") or "/")
    overrides = {
        "SCRIPT_NAME": target.script_name,
        "PATH_INFO": target.path_info,
        "QUERY_STRING": target.query,
        "REQUEST_URI": target.raw,
        "RAW_URI": target.raw,
    }
    builder = EnvironBuilder(
        app,
        "/",
        base_url=f"{target.scheme}://{target.host}",
        method=method.upper(),
        headers=headers,
        environ_base={"REMOTE_ADDR": remote_addr},
        environ_overrides=overrides,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    # As the middleware does before Flask routes: what a trusted proxy says
    # changes what routing (and its redirects) sees.
    view, snapshot = judge(state, environ)
    secure, host = view.secure, view.host
    with app.request_context(environ) as context:
        request = context.request
        verdict = check(state, request, app)
        if verdict is None:
            forced = snapshot.policy(_routed_endpoint(app, snapshot, request))
            exempt = snapshot.is_exempt(request.path)
            policy = forced.exempted if exempt else forced
        else:
            forced = policy = verdict.policy
        result: dict[str, t.Any] = {
            "request": f"{request.method} {url}",
            "script_name": target.script_name,
            "endpoint": policy.endpoint,
            "kind": policy.kind.value,
            "design": f"{policy.design.level.value} ({policy.design.origin})",
            "effective": policy.effective.value,
            "client": f"{'https' if secure else 'http'} to host {host!r}",
        }
        if verdict is None:
            why = _why_served(secure, forced, policy)
            answer = _flask_answer(request, policy.endpoint)
            reasons = [why, answer.pop("reason")] if "reason" in answer else [why]
            result.update(answer, reasons=reasons)
            result["hsts"] = snapshot.hsts_for(host) if secure else None
        else:
            outcome = "redirected" if verdict.is_redirect else "rejected"
            reasons = list(policy.reasons)
            if verdict.cause is not None:
                # What refused it beyond the policy: the host, the certificate.
                reasons.insert(0, verdict.cause)
            result.update(
                outcome=outcome,
                status=verdict.status,
                location=verdict.location,
                reasons=reasons,
                hsts=None,
            )
    return result
