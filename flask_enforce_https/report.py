"""What the ``flask https`` commands report: the effective settings of
every endpoint, and what a given request would get.

Both call the functions the request hook calls, so what they report is what
requests get.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from flask import Flask

from .enforce import check, client_view_of, hsts_header
from .levels import HttpSecurity
from .policy import Policy
from .state import AppState


class BadURL(ValueError):
    """The URL to explain is not an absolute HTTP or HTTPS URL."""


def _why_served(secure: bool, policy: Policy, exempt: bool) -> str:
    if exempt and policy.requires_tls:
        return "the path is exempt"
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
        policy = snapshot.policy(app, rule.endpoint)
        rows.append(
            {
                "application": state.application,
                "endpoint": rule.endpoint,
                "rule": rule.rule,
                "methods": sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}),
                "kind": policy.kind.value,
                "design": policy.design.level.value,
                "effective": policy.effective.value,
                "reasons": list(policy.reasons),
                "hsts": snapshot.hsts_header is not None,
                "exempt": snapshot.rule_is_exempt(rule.rule),
            }
        )
    return rows


def explanation(
    app: Flask,
    state: AppState,
    url: str,
    method: str = "GET",
    headers: t.Sequence[tuple[str, str]] = (),
    remote_addr: str = "127.0.0.1",
) -> dict[str, t.Any]:
    """Say what the running rules would do with a request, and why.

    The request is built as a WSGI server would build it and goes through
    the hook's own :func:`~flask_enforce_https.enforce.check`; no view runs.

    :param app: The application.
    :param state: Its extension state.
    :param url: The absolute ``http://`` or ``https://`` URL.
    :param method: The request method.
    :param headers: Extra request headers.
    :param remote_addr: The peer address the request comes from.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadURL(f"expected an absolute http or https URL, got {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    overrides = {"RAW_URI": target, "REQUEST_URI": target}
    with app.test_request_context(
        parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method.upper(),
        headers=headers,
        environ_base={"REMOTE_ADDR": remote_addr},
        environ_overrides=overrides,
    ) as context:
        request = context.request
        snapshot = state.snapshot()
        policy = snapshot.policy(app, request.endpoint)
        secure, host = client_view_of(state, request.environ)
        verdict = check(state, request)
        result: dict[str, t.Any] = {
            "request": f"{request.method} {url}",
            "endpoint": request.endpoint,
            "kind": policy.kind.value,
            "design": f"{policy.design.level.value} ({policy.design.origin})",
            "effective": policy.effective.value,
            "client": f"{'https' if secure else 'http'} to host {host!r}",
        }
        if verdict is None:
            why = _why_served(secure, policy, snapshot.is_exempt(request.path))
            result.update(outcome="served", status=None, location=None, reasons=[why])
            result["hsts"] = hsts_header(snapshot, host) if secure else None
        else:
            outcome = "redirected" if verdict.is_redirect else "rejected"
            reasons = list(policy.reasons)
            if verdict.reason != policy.reason:
                # What refused it beyond the policy: the host, the certificate.
                reasons.insert(0, verdict.reason.removeprefix(f"{policy.reason}; "))
            result.update(
                outcome=outcome,
                status=verdict.status,
                location=verdict.location,
                reasons=reasons,
                hsts=None,
            )
    return result
