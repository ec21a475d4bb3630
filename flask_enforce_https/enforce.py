"""The request hook that redirects screens and refuses integrations.

:func:`check` decides; the hook only turns its verdict into a response. The
``flask https explain`` command calls the same :func:`check`, so what it
says is what a request gets.
"""

from __future__ import annotations

import datetime
import logging
import typing as t
from urllib.parse import unquote, urlsplit

from flask import Flask, Request, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from . import signals
from .client_certs import CERTIFICATE_KEY, ClientCertificateError
from .levels import HttpSecurity
from .location import hostname, https_location, split_host
from .middleware import judge
from .policy import Policy
from .proxies import VIEW_KEY, ClientView
from .refusals import (
    ClientCertificateRequired,
    HTTPSRequired,
    Refusal,
    UntrustedHost,
    handled,
)
from .responses import (
    BAD_HOST,
    CLIENT_CERTIFICATE_REQUIRED,
    HTTPS_REQUIRED,
    redirect,
    refusal,
)
from .snapshot import SNAPSHOT_KEY, Snapshot
from .state import AppState

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask.typing import ResponseReturnValue

logger = logging.getLogger("flask_enforce_https")

_SAFE_METHODS = frozenset(("GET", "HEAD"))
_CONFLICT = "the trusted proxies' forwarded hosts disagree, or one is not a host"


class Verdict(t.NamedTuple):
    """What happens to a request that is not served as it came.

    :param status: The response status: a redirect code, 400 or 403.
    :param location: The redirect target, for redirects only.
    :param policy: The endpoint's effective policy.
    :param detail: For refusals, what the client is told.
    :param cause: What refused it beyond the policy (the host, the
        certificate), in words; ``None`` when the policy says it all.
    :param error: For refusals, the exception an app may handle.
    """

    status: int
    location: str | None
    policy: Policy
    detail: str = ""
    cause: str | None = None
    error: type[Refusal] | None = None

    @property
    def is_redirect(self) -> bool:
        """Whether the request is redirected, rather than refused."""
        return self.location is not None

    @property
    def reason(self) -> str:
        """Why, in words, for logs and signals."""
        if self.cause is None:
            return self.policy.reason
        if not self.policy.reasons:
            return self.cause
        return f"{self.policy.reason}; {self.cause}"


def judged_by(state: AppState, environ: WSGIEnvironment) -> tuple[ClientView, Snapshot]:
    """Return how the client came and the settings a request is judged by.

    :class:`~flask_enforce_https.middleware.HTTPSMiddleware` leaves both in
    the environ; for a request that did not pass through it they are worked
    out here the same way.

    :param state: The application's state.
    :param environ: The WSGI environ.
    """
    view = environ.get(VIEW_KEY)
    snapshot = environ.get(SNAPSHOT_KEY)
    if view is None or snapshot is None:
        return judge(state, environ)
    return view, snapshot


def check(state: AppState, req: Request, app: Flask) -> Verdict | None:
    """Decide what to do with ``req``: ``None`` to serve it as it came.

    :param state: The application's state.
    :param req: The request, after URL matching.
    :param app: The application.
    """
    if not state.scanned:
        state.scan(app)
        state.scanned = True
    verdict = _check(state, req, app)
    routing_error = req.routing_exception
    if verdict is not None or not isinstance(routing_error, RequestRedirect):
        return verdict
    # Served: werkzeug's own redirect (a missing slash) then builds its
    # Location from the Host, which an invalid one would misdirect (or,
    # before werkzeug 3.1.9, make a 500).
    sent = req.environ.get("HTTP_HOST")
    if sent is None or split_host(sent) is not None:
        return None
    _, snapshot = judged_by(state, req.environ)
    policy = snapshot.policy(endpoint_of_url(app, snapshot, req, routing_error))
    cause = f"cannot redirect to host {sent!r}"
    return Verdict(400, None, policy, BAD_HOST, cause, UntrustedHost)


def _check(state: AppState, req: Request, app: Flask) -> Verdict | None:
    environ = req.environ
    view, snapshot = judged_by(state, environ)
    if view.secure and not view.conflict and not state.needs_client_certs:
        return None
    endpoint = req.endpoint
    routing_error = req.routing_exception
    if isinstance(routing_error, (MethodNotAllowed, RequestRedirect)):
        endpoint = endpoint_of_url(app, snapshot, req, routing_error)
    elif routing_error is not None and not isinstance(routing_error, NotFound):
        # A Host werkzeug cannot route: Flask answers 400 without running a
        # view, where a redirect could send an API's request on with its body.
        return None
    policy = snapshot.policy(endpoint)
    if view.conflict:
        return Verdict(400, None, policy, BAD_HOST, _CONFLICT, UntrustedHost)
    if not policy.requires_tls:
        return None
    if snapshot.is_exempt(req.path):
        # Exempt from what the administrator forced, never from the design.
        policy = policy.exempted
        if not policy.requires_tls:
            return None
    if view.secure:
        return _client_certificate(state, environ, policy, view.trusted)
    if policy.kind.is_integration:
        return Verdict(403, None, policy, HTTPS_REQUIRED, None, HTTPSRequired)
    host = view.host
    if state.config.domain is not None and not _in_domain(host, state.config.domain):
        cause = f"host {host!r} is not in SERVER_NAME"
        return Verdict(400, None, policy, BAD_HOST, cause, UntrustedHost)
    location = https_location(
        environ,
        host,
        state.config.host,
        state.config.port,
        app.config.get("TRUSTED_HOSTS"),
    )
    if location is None:
        cause = f"cannot redirect to host {host!r}"
        return Verdict(400, None, policy, BAD_HOST, cause, UntrustedHost)
    code = state.config.redirect_code
    if req.method not in _SAFE_METHODS:
        code = state.config.redirect_code_other
    return Verdict(code, location, policy)


def _in_domain(host: str | None, domain: str) -> bool:
    name = hostname(host)
    return name is not None and (name == domain or name.endswith(f".{domain}"))


def endpoint_of_url(
    app: Flask,
    snapshot: Snapshot,
    req: Request,
    error: MethodNotAllowed | RequestRedirect,
) -> str | None:
    """The endpoint of a URL that matched a rule with another method (405),
    or only after a slash redirect.

    Such a URL is still the endpoint's: an API called that way over HTTP is
    refused, never redirected. Where the URL has several endpoints, an
    integration among them wins.
    """
    adapter = app.create_url_adapter(req)
    if adapter is None:  # pragma: no cover - a request always has one
        return None
    path = None
    methods: t.Iterable[str] = getattr(error, "valid_methods", None) or ()
    if isinstance(error, RequestRedirect):
        # The new URL is percent-encoded; routing matches decoded paths.
        path = unquote(urlsplit(error.new_url).path).removeprefix(req.script_root)
        methods = (req.method,)
    found = None
    for method in methods:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if snapshot.policy(rule.endpoint).kind.is_integration:
            return str(rule.endpoint)
        found = found or str(rule.endpoint)
    return found


def _client_certificate(
    state: AppState, environ: WSGIEnvironment, policy: Policy, trusted: bool
) -> Verdict | None:
    if policy.effective is not HttpSecurity.TLS_CLIENT_CERT:
        return None
    try:
        if state.client_ca is None:  # scan() refuses this; fail closed anyway
            raise ClientCertificateError("no client CA is configured")
        # ``trusted`` is the middleware's judgement of the peer, made before
        # any inner middleware (ProxyFix) rewrote REMOTE_ADDR.
        pem = state.client_ca.presented(environ, trusted)
        if pem is None:
            raise ClientCertificateError("no client certificate was presented")
        now = datetime.datetime.now(datetime.timezone.utc)
        environ[CERTIFICATE_KEY] = state.client_ca.verify(pem, now)
    except ClientCertificateError as e:
        detail = f"{CLIENT_CERTIFICATE_REQUIRED} ({e})"
        return Verdict(403, None, policy, detail, str(e), ClientCertificateRequired)
    return None


def install(app: Flask, state: AppState) -> None:
    """Make ``app`` judge each request before any code of its own runs.

    Flask runs the ``url_value_preprocessor`` functions before the
    ``before_request`` hooks, so the check wraps the app's
    :meth:`~flask.Flask.preprocess_request`: a request that is redirected or
    refused reaches no preprocessor, hook or view, and its response still
    goes through the app's ``after_request`` hooks.

    :param app: The application.
    :param state: Its state.
    """
    preprocess = app.preprocess_request

    def enforce_https() -> ResponseReturnValue | None:
        # Dereferenced once: each attribute read through the proxy costs
        # more than the whole check.
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        view = req.environ.get(VIEW_KEY)
        if (
            view is not None
            and view.secure
            and not view.conflict
            and state.scanned
            and not state.needs_client_certs
            and req.routing_exception is None
        ):
            return preprocess()  # HTTPS, nothing more to check: the common case
        verdict = check(state, req, app)
        if verdict is None:
            return preprocess()
        return _respond(app, state, req, verdict)

    app.preprocess_request = enforce_https  # type: ignore[method-assign]


def _respond(app: Flask, state: AppState, req: Request, verdict: Verdict) -> Response:
    # Receivers are sent to with signals.send: one that raises is logged and
    # the verdict stands, so a bug in a logging hook never serves a request
    # or turns its redirect or refusal into a 500.
    if verdict.location is not None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "redirected %s to %s: %s", req.url, verdict.location, verdict.reason
            )
        if signals.request_redirected.receivers:
            signals.send(
                signals.request_redirected,
                app,
                request=req,
                location=verdict.location,
                reason=verdict.reason,
            )
        return redirect(verdict.location, verdict.status, state.config.redirect_max_age)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("refused %s with %d: %s", req.url, verdict.status, verdict.reason)
    if signals.request_rejected.receivers:
        signals.send(
            signals.request_rejected,
            app,
            request=req,
            status=verdict.status,
            reason=verdict.reason,
        )
    error = verdict.error
    if error is not None and handled(app, error, req.blueprints):
        # Raised only for an app that handles it: an exception costs more
        # than the whole check, and a generic 403 handler must not replace
        # an API's problem+json.
        raise error(verdict.policy.kind, verdict.detail, verdict.reason, req)
    return refusal(verdict.policy.kind, verdict.status, verdict.detail, req)
