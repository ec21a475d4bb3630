"""Cross-site request forgery: where a request that changes something came
from, and a signed token bound to the user.

A browser sends HTTP Basic credentials and client certificates with every
request to the console, cross-site ones too, so a page elsewhere could
post a change in an administrator's name. The console refuses a request
that changes anything unless :func:`check_origin` finds it came from the
console's own origin *and* its form carries a :func:`make_token` token of
the same user that :func:`check_token` accepts.

Flask-WTF
---------

An application that uses Flask-WTF's ``CSRFProtect`` would refuse the
console's forms, which carry no Flask-WTF token (the console does not
depend on Flask-WTF). :func:`exempt_from_flask_wtf` exempts the console's
blueprint from it: the checks here are at least as strict (the origin,
behind trusted proxies too, and a signed token bound to the user rather
than to a session cookie). A template of the console may still render
``{{ csrf_token() }}`` where Flask-WTF defines it; nothing checks it.
"""

from __future__ import annotations

import hmac
import sys
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Request
from itsdangerous import BadData, URLSafeTimedSerializer

from ..errors import ConfigurationError
from ..location import split_host
from ..proxies import VIEW_KEY, ClientView

#: Methods that change nothing: their requests are not checked.
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE"))
#: Keeps console tokens apart from anything else signed with SECRET_KEY.
SALT = "flask-enforce-https.console.forgery"
#: A token longer than this is refused unread.
MAX_TOKEN = 1024


def check_origin(request: Request) -> str | None:
    """Return why a request that changes something may be forged, or
    ``None`` when it came from the console's own origin.

    Requests with a safe method (``GET``, ``HEAD``, ``OPTIONS``,
    ``TRACE``) are not checked. For the others, the first of these the
    request has decides:

    1. ``Sec-Fetch-Site``, which browsers set and pages cannot: only
       ``same-origin`` passes. ``same-site`` (another subdomain), and
       ``none`` (the user typed or bookmarked the URL, which is a
       navigation, never a form's ``POST``) are refused.
    2. ``Origin``: it must be the scheme and host the client used, as the
       extension worked them out through trusted proxies (so behind nginx
       too, where ``request.host`` may be the upstream's). ``null``
       (sandboxed frames, some redirects) is refused.
    3. ``Referer``: its scheme and host, the same way.

    A request with none of them, or one whose value does not parse, is
    refused: browsers that could be made to forge it send at least one.

    :param request: The request.
    """
    if request.method in SAFE_METHODS:
        return None
    headers = request.headers
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        if site == "same-origin":
            return None
        return f"Sec-Fetch-Site is {site!r}, not 'same-origin'"
    origin = headers.get("Origin")
    if origin is not None:
        return _compare("Origin", origin, request, bare=True)
    referer = headers.get("Referer")
    if referer is not None:
        return _compare("Referer", referer, request, bare=False)
    return "the request has no Sec-Fetch-Site, Origin or Referer header"


def _compare(header: str, value: str, request: Request, bare: bool) -> str | None:
    view = request.environ.get(VIEW_KEY)
    if not isinstance(view, ClientView) or view.host is None:
        # Not judged by the extension, or its proxies disagree on the host:
        # there is no origin to compare with.
        return f"the request's own origin is unknown, so {header} cannot match it"
    scheme = "https" if view.secure else "http"
    expected = _origin(f"{scheme}://{view.host}", bare=True)
    found = _origin(value, bare)
    if found is None:
        return f"{header} {_shown(value)} is not a URL of an origin"
    if found != expected:
        return f"{header} {_shown(value)} is not this console's origin"
    return None


def _origin(url: str, bare: bool) -> tuple[str, str, int] | None:
    """The scheme, host and port of ``url``; ``None`` when it has none, or
    has more than an origin and ``bare`` (an ``Origin`` header has no
    path)."""
    if url == "null" or len(url) > 4096:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or "@" in parts.netloc:
        return None
    if bare and (parts.path or "?" in url or "#" in url):
        return None
    split = split_host(parts.netloc)
    if split is None:
        return None
    host, port = split
    return scheme, host, port or (443 if scheme == "https" else 80)


def _shown(value: str) -> str:
    # Said to the client and logged: short, and no control characters.
    text = value if len(value) <= 100 else value[:100] + "..."
    return repr(text)


def _serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    if not secret_key:
        raise ConfigurationError(
            "SECRET_KEY",
            "is empty: the console signs its forms with it. Set it to a long"
            " random value, such as the output of"
            " 'python -c \"import secrets; print(secrets.token_hex())\"'",
        )
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_token(secret_key: str | bytes, user: str) -> str:
    """Return a token for the console's forms, signed and bound to ``user``.

    :param secret_key: The application's ``SECRET_KEY``.
    :param user: The user the page is for: another user's
        :func:`check_token` refuses it.
    :raises ConfigurationError: ``secret_key`` is empty.
    """
    return _serializer(secret_key).dumps(user)


def check_token(
    secret_key: str | bytes, user: str, token: str | None, max_age: int
) -> bool:
    """Whether ``token`` is :func:`make_token`'s for ``user``, signed with
    ``secret_key`` at most ``max_age`` seconds ago.

    :param secret_key: The application's ``SECRET_KEY``.
    :param user: The user of the request.
    :param token: The token the form sent; ``None`` when it sent none.
    :param max_age: Seconds a token is good for.
    :raises ConfigurationError: ``secret_key`` is empty.
    """
    serializer = _serializer(secret_key)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return False
    try:
        signed = serializer.loads(token, max_age=max_age)
    except BadData:  # a bad signature, expired, or not ours
        return False
    return isinstance(signed, str) and hmac.compare_digest(
        signed.encode("utf-8", "surrogatepass"), user.encode("utf-8", "surrogatepass")
    )


def exempt_from_flask_wtf(app: Flask, blueprint: Blueprint) -> bool:
    """Exempt ``blueprint`` from Flask-WTF's ``CSRFProtect``, when ``app``
    uses it.

    Call it once both the blueprint is registered and ``CSRFProtect`` is
    set up on the app: one set up later is not seen.

    :param app: The application.
    :param blueprint: The console's blueprint.
    :return: Whether it was exempted: ``False`` when the app has no
        ``CSRFProtect``, or when Flask-WTF is not even imported.
    """
    # Flask-WTF is no dependency: if the app uses it, it is imported.
    module = sys.modules.get("flask_wtf.csrf")
    protect = app.extensions.get("csrf")
    if module is None or not isinstance(protect, module.CSRFProtect):
        return False
    protect.exempt(blueprint)
    return True
