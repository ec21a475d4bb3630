"""The extension's refusals as exceptions, for apps that handle them the
Flask way.

A refusal is answered with the extension's own body (problem+json, a SOAP
Fault or HTML, see :mod:`.responses`) unless the application registered an
error handler for one of these classes itself (or a subclass)::

    @app.errorhandler(HTTPSRequired)
    def https_required(error):
        return render_template("https.html", detail=error.detail), 403

A generic ``errorhandler(403)`` or ``errorhandler(HTTPException)`` does not
replace them: an API's clients keep their problem+json or SOAP Fault.
"""

from __future__ import annotations

import typing as t

from flask import Flask, Request
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException

from .declarations import Kind
from .responses import refusal


class Refusal(HTTPException):
    """What the extension's refusals have in common.

    :param kind: The kind of the endpoint that refused the request.
    :param detail: What the client is told.
    :param reason: Why, for logs: the policy and what failed.
    :param request: The request, for the format of the body.
    """

    def __init__(self, kind: Kind, detail: str, reason: str, request: Request) -> None:
        self.kind = kind
        self.detail = detail
        self.reason = reason
        # get_response() returns this: the extension's own body.
        super().__init__(detail, refusal(kind, t.cast(int, self.code), detail, request))


class HTTPSRequired(Refusal, Forbidden):
    """403: an endpoint that requires TLS was called over plain HTTP, or
    (:class:`ClientCertificateRequired`) without a valid client certificate.
    """


class ClientCertificateRequired(HTTPSRequired):
    """403: an endpoint at ``tls-client-cert`` got no valid client
    certificate."""


class UntrustedHost(Refusal, BadRequest):
    """400: the request cannot be redirected, since its host is missing,
    invalid, not trusted, or named differently by the trusted proxies."""


def handled(app: Flask, error: type[Refusal], blueprints: t.Sequence[str]) -> bool:
    """Whether the error handler Flask would pick for ``error`` is one
    registered for a refusal class (``error`` or a base up to
    :class:`Refusal`), rather than a generic one.

    Flask looks by status code, then for any code; in each, the request's
    blueprints innermost first, then the app; in each, along the class's
    method resolution order. The first handler found wins, so a generic 403
    handler on a blueprint beats the app's handler for ``HTTPSRequired``.

    :param app: The application.
    :param error: The refusal's class.
    :param blueprints: The request's blueprints, innermost first.
    """
    for code in (error.code, None):
        for name in (*blueprints, None):
            handlers = app.error_handler_spec.get(name, {}).get(code)
            if not handlers:
                continue
            for cls in error.__mro__:
                if cls in handlers:
                    return issubclass(cls, Refusal)
    return False
