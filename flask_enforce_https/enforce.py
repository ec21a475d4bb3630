"""The request hook that redirects screens and refuses integrations.

:func:`check` decides; the hook only turns its verdict into a response. The
``flask https explain`` command calls the same :func:`check`, so what it
says is what a request gets.
"""

from __future__ import annotations

import datetime
import logging
import typing as t
from urllib.parse import urlsplit

from flask import Request, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from . import signals
from .client_certs import CERTIFICATE_KEY, ClientCertificateError
from .levels import HttpSecurity
from .location import https_location
from .policy import Policy
from .proxies import is_trusted, request_origin
from .responses import (
    BAD_HOST,
    CLIENT_CERTIFICATE_REQUIRED,
    HTTPS_REQUIRED,
    redirect,
    refusal,
)
from .state import AppState, Snapshot

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

logger = logging.getLogger("flask_enforce_https")

#: Where the hook leaves, in the WSGI environ, whether the client used HTTPS,
#: the host it asked for and the settings snapshot it was judged by, so that
#: :class:`HTTPSHeaders` need not work them out again.
ORIGIN_KEY = "flask_enforce_https.origin"
_SAFE_METHODS = frozenset(("GET", "HEAD"))


class Verdict(t.NamedTuple):
    """What happens to a request that is not served as it came.

    :param status: The response status: a redirect code, 400 or 403.
    :param location: The redirect target, for redirects only.
    :param reason: Why, in words.
    :param policy: The endpoint's effective policy.
    :param detail: For refusals, what the client is told.
    """

    status: int
    location: str | None
    reason: str
    policy: Policy
    detail: str

    @property
    def is_redirect(self) -> bool:
        """Whether the request is redirected, rather than refused."""
        return self.location is not None


def client_view(
    snapshot: Snapshot, environ: WSGIEnvironment
) -> tuple[bool, str | None]:
    """Return whether the client used HTTPS, and the host it asked for.

    Forwarded headers count only from trusted proxies.

    :param snapshot: The settings in force.
    :param environ: The WSGI environ.
    """
    if snapshot.trusted and is_trusted(environ.get("REMOTE_ADDR"), snapshot.trusted):
        origin = request_origin(environ, snapshot.trusted)
        return origin.is_secure, origin.host
    return environ.get("wsgi.url_scheme") == "https", environ.get("HTTP_HOST")


def hsts_header(snapshot: Snapshot, host: str | None) -> str | None:
    """Return the HSTS header an HTTPS response to ``host`` gets, if any.

    :param snapshot: The settings in force.
    :param host: The ``Host`` the client used.
    """
    return snapshot.hsts_for(host)


def check(state: AppState, req: Request) -> Verdict | None:
    """Decide what to do with ``req``: ``None`` to serve it as it came.

    How the client came is read from the environ, where
    :class:`~flask_enforce_https.middleware.HTTPSMiddleware` left it (and
    worked out here for a request that did not pass through it, such as
    ``flask https explain``'s).

    :param state: The application's state.
    :param req: The request, after URL matching.
    """
    if not state.scanned:
        state.scan(current_app)
        state.scanned = True
    environ = req.environ
    seen = environ.get(ORIGIN_KEY)
    if seen is None:  # a request that did not come through HTTPSMiddleware
        snapshot = state.snapshot()
        secure, host = client_view(snapshot, environ)
        environ[ORIGIN_KEY] = secure, host, snapshot
    else:
        secure, host, snapshot = seen
    if secure and not state.needs_client_certs:
        return None
    endpoint = req.endpoint
    routing_error = req.routing_exception
    if isinstance(routing_error, (MethodNotAllowed, RequestRedirect)):
        endpoint = _endpoint_of_url(snapshot, req, routing_error)
    elif routing_error is not None and not isinstance(routing_error, NotFound):
        # A Host werkzeug cannot route: Flask answers 400 without running a
        # view, where a redirect could send an API's request on with its body.
        return None
    policy = snapshot.policy(current_app, endpoint)
    if not policy.requires_tls or snapshot.is_exempt(req.path):
        return None
    if secure:
        return _client_certificate(state, snapshot, environ, policy)
    if policy.kind.is_integration:
        return Verdict(403, None, policy.reason, policy, HTTPS_REQUIRED)
    trusted_hosts = current_app._get_current_object().config.get("TRUSTED_HOSTS")  # type: ignore[attr-defined]
    location = https_location(environ, host, state.host, state.port, trusted_hosts)
    if location is None:
        return Verdict(400, None, f"cannot redirect to host {host!r}", policy, BAD_HOST)
    code = state.redirect_code
    if req.method not in _SAFE_METHODS:
        code = state.redirect_code_other
    return Verdict(code, location, policy.reason, policy, "")


def _endpoint_of_url(
    snapshot: Snapshot, req: Request, error: MethodNotAllowed | RequestRedirect
) -> str | None:
    """The endpoint of a URL that matched a rule with another method (405),
    or only after a slash redirect.

    Such a URL is still the endpoint's: an API called that way over HTTP is
    refused, never redirected. Where the URL has several endpoints, an
    integration among them wins.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter = app.create_url_adapter(req)
    path = None
    methods: t.Iterable[str] = getattr(error, "valid_methods", None) or ()
    if isinstance(error, RequestRedirect):
        path = urlsplit(error.new_url).path.removeprefix(req.script_root)
        methods = (req.method,)
    found = None
    for method in methods:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if snapshot.policy(app, rule.endpoint).kind.is_integration:
            return str(rule.endpoint)
        found = found or str(rule.endpoint)
    return found


def _client_certificate(
    state: AppState, snapshot: Snapshot, environ: WSGIEnvironment, policy: Policy
) -> Verdict | None:
    if policy.effective is not HttpSecurity.TLS_CLIENT_CERT:
        return None
    trusted = is_trusted(environ.get("REMOTE_ADDR"), snapshot.trusted)
    try:
        if state.client_ca is None:  # scan() refuses this; fail closed anyway
            raise ClientCertificateError("no client CA is configured")
        pem = state.client_ca.presented(environ, trusted)
        if pem is None:
            raise ClientCertificateError("no client certificate was presented")
        now = datetime.datetime.now(datetime.timezone.utc)
        environ[CERTIFICATE_KEY] = state.client_ca.verify(pem, now)
    except ClientCertificateError as e:
        return Verdict(
            403,
            None,
            f"{policy.reason}; {e}",
            policy,
            f"{CLIENT_CERTIFICATE_REQUIRED} ({e})",
        )
    return None


def before_request(state: AppState) -> t.Callable[[], Response | None]:
    """Return the ``before_request`` hook for one application.

    :param state: The application's state.
    """

    def enforce_https() -> Response | None:
        # Dereferenced once: each attribute read through the proxy costs
        # more than the whole check.
        req = request._get_current_object()  # type: ignore[attr-defined]
        seen = req.environ.get(ORIGIN_KEY)
        if (
            seen is not None
            and seen[0]
            and state.scanned
            and not state.needs_client_certs
        ):
            return None  # HTTPS, and nothing more to check: the common case
        verdict = check(state, req)
        if verdict is None:
            return None
        if verdict.location is not None:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "redirected %s to %s: %s",
                    req.url,
                    verdict.location,
                    verdict.reason,
                )
            if signals.request_redirected.receivers:
                signals.request_redirected.send(
                    current_app._get_current_object(),  # type: ignore[attr-defined]
                    request=req,
                    location=verdict.location,
                    reason=verdict.reason,
                )
            return redirect(verdict.location, verdict.status)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "refused %s with %d: %s", req.url, verdict.status, verdict.reason
            )
        if signals.request_rejected.receivers:
            signals.request_rejected.send(
                current_app._get_current_object(),  # type: ignore[attr-defined]
                request=req,
                status=verdict.status,
                reason=verdict.reason,
            )
        return refusal(verdict.policy.kind, verdict.status, verdict.detail, req)

    return enforce_https
