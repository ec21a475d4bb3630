"""CSRF protection of the demo's forms: a synchronizer token in the session.

Each session gets a random token (:func:`secrets.token_urlsafe`). The forms
put it in a hidden ``csrf_token`` field (the template global
``csrf_token()``), and :func:`protect` refuses every POST of a blueprint
whose field does not match the session's, with :class:`CSRFError` (400).
Another site can make a browser send a form here, cookies and all, but it
cannot read the token: the session cookie is signed, ``HttpOnly``, and the
pages that show the token are served over HTTPS only. :func:`rotate` gives
the session a new token when the user signs in.

Written here rather than taken from Flask-WTF, so that the demo needs
nothing beyond what the extension installs; an application with more forms
than this one would rather use Flask-WTF's ``CSRFProtect``.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Flask, request, session
from werkzeug.exceptions import BadRequest

#: The session key of the token, and the form field that must repeat it.
FIELD = "csrf_token"
#: Methods that change nothing, and so need no token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CSRFError(BadRequest):
    """A form came without this session's CSRF token: 400."""

    description = (
        "This form was refused: its CSRF token is missing or wrong, so it may"
        " have been sent from another site, or your session was lost. Send it"
        " again from this page."
    )


def token() -> str:
    """Return the session's token, made on first use."""
    value = session.get(FIELD)
    if not isinstance(value, str) or not value:
        value = rotate()
    return value


def rotate() -> str:
    """Give the session a new token, and return it."""
    value = session[FIELD] = secrets.token_urlsafe(32)
    return value


def is_valid(sent: str | None) -> bool:
    """Whether ``sent`` is the session's token.

    A session without one matches nothing, not even an empty field.

    :param sent: The token the form sent, if any.
    """
    expected = session.get(FIELD)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    # Bytes: compare_digest refuses str with characters outside ASCII.
    return hmac.compare_digest(sent.encode(), expected.encode())


def check() -> None:
    """Refuse a request that changes something without the token.

    :raises CSRFError: The request is not safe and its token is missing or
        wrong.
    """
    if request.method not in SAFE_METHODS and not is_valid(request.form.get(FIELD)):
        raise CSRFError()


def protect(blueprint: Blueprint) -> Blueprint:
    """Check the token of every request to ``blueprint``'s views.

    :param blueprint: The blueprint whose forms need the token.
    """
    blueprint.before_request(check)
    return blueprint


def init_app(app: Flask) -> None:
    """Make ``csrf_token()`` available to the application's templates.

    :param app: The application.
    """
    app.add_template_global(token, "csrf_token")
