"""WSGI middleware: how the client came, and HSTS and Secure cookies on HTTPS
responses."""

from __future__ import annotations

import typing as t

from .proxies import PROXY_FIX_KEY, VIEW_KEY, ClientView, client_view, show_to_app
from .snapshot import SNAPSHOT_KEY, Snapshot
from .state import AppState

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_HSTS = "Strict-Transport-Security"


class HTTPSMiddleware:
    """WSGI middleware: notes how the client came, and adds HSTS and
    ``Secure`` to cookies on HTTPS responses.

    It runs before Flask, so it works out the client's scheme and host once
    per request, for the hook too. The headers are added as the response
    starts, where they are a plain list: cheaper than werkzeug's ``Headers``,
    and every response gets them, error pages included, whatever hooks the
    app has.

    :param wsgi_app: The app's WSGI callable, to wrap.
    :param state: The application's state.
    """

    def __init__(self, wsgi_app: WSGIApplication, state: AppState) -> None:
        self.wsgi_app = wsgi_app
        self.state = state

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> t.Iterable[bytes]:
        # judge(), inlined for the common case: this runs on every request.
        state = self.state
        snapshot = state.snapshot()
        if snapshot.trusted or PROXY_FIX_KEY in environ:
            view = _proxied(state, snapshot, environ)
        else:
            view = ClientView(
                environ.get("wsgi.url_scheme") == "https", environ.get("HTTP_HOST")
            )
        environ[VIEW_KEY] = view
        environ[SNAPSHOT_KEY] = snapshot
        secure, host = view.secure, view.host
        if not secure:
            return self.wsgi_app(environ, start_response)
        hsts = snapshot.hsts_for(host)
        secure_cookies = snapshot.secure_cookies
        if hsts is None and not secure_cookies:
            return self.wsgi_app(environ, start_response)

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Callable[[bytes], object]:
            headers = https_headers(headers, hsts, secure_cookies)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def judge(state: AppState, environ: WSGIEnvironment) -> tuple[ClientView, Snapshot]:
    """Work out how the client came, show the application that, and leave
    both the view and the settings snapshot in the environ for the hook.

    :param state: The application's state.
    :param environ: The WSGI environ, changed in place.
    """
    snapshot = state.snapshot()
    if snapshot.trusted or PROXY_FIX_KEY in environ:
        view = _proxied(state, snapshot, environ)
    else:
        view = ClientView(
            environ.get("wsgi.url_scheme") == "https", environ.get("HTTP_HOST")
        )
    environ[VIEW_KEY] = view
    environ[SNAPSHOT_KEY] = snapshot
    return view, snapshot


def _proxied(
    state: AppState, snapshot: Snapshot, environ: WSGIEnvironment
) -> ClientView:
    view = client_view(environ, snapshot.proxies)
    if view.conflict and state.config.host is not None:
        # The proxies disagree on the host: the configured one wins.
        view = ClientView(view.secure, state.config.host, True)
    show_to_app(environ, view)
    return view


def https_headers(
    headers: list[tuple[str, str]], hsts: str | None, secure_cookies: bool
) -> list[tuple[str, str]]:
    """Return the headers of an HTTPS response with HSTS and Secure cookies.

    A view's own ``Strict-Transport-Security`` is kept, never doubled.

    :param headers: The response headers.
    :param hsts: The HSTS header value to add, or ``None``.
    :param secure_cookies: Whether to add ``Secure`` to every cookie.
    """
    if not secure_cookies:
        # The common case: only HSTS to add, unless the view set its own.
        for name, _ in headers:
            if len(name) == 25 and name.lower() == "strict-transport-security":
                return headers
        return headers if hsts is None else [*headers, (_HSTS, hsts)]
    result = []
    for name, value in headers:
        lower = name.lower()
        if lower == "strict-transport-security":
            hsts = None
        elif lower == "set-cookie" and not _has_secure(value):
            value = f"{value}; Secure"
        result.append((name, value))
    if hsts is not None:
        result.append((_HSTS, hsts))
    return result


def _has_secure(cookie: str) -> bool:
    return any(a.strip().lower() == "secure" for a in cookie.split(";")[1:])
