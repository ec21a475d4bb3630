"""The extension's own responses: redirects, and refusals in the format each
kind of client can parse.

Browsers get HTML, REST clients RFC 9457 ``application/problem+json``, SOAP
clients a Fault in the SOAP version they spoke. Every one says how long it
may be cached and that its ``Content-Type`` is not to be sniffed.
"""

from __future__ import annotations

import functools
import json
import re
import typing as t
from html import escape

from flask import Request, Response
from werkzeug.datastructures import Headers

from .declarations import Kind

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

# What location.https_location emits: nothing werkzeug would re-encode.
_URI = re.compile(r"https://[A-Za-z0-9\-._~!$&'()*+,;=:@/?%\[\]]*")
_REASONS = {400: "Bad Request", 403: "Forbidden"}
_NOSNIFF = ("X-Content-Type-Options", "nosniff")
# A refusal answers this request only: a client fixed, or settings relaxed,
# must be obeyed at once.
_REFUSAL_HEADERS = (("Cache-Control", "no-store"), _NOSNIFF)

_SOAP11 = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><soap:Fault><faultcode>soap:Client</faultcode>\
<faultstring>{text}</faultstring></soap:Fault></soap:Body>
</soap:Envelope>
"""

_SOAP12 = """<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">
<env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code>\
<env:Reason><env:Text xml:lang="en">{text}</env:Text></env:Reason></env:Fault>\
</env:Body></env:Envelope>
"""

_HTML = """<!doctype html>
<title>{status} {title}</title>
<h1>{title}</h1>
<p>{text}</p>
"""

HTTPS_REQUIRED = (
    "This endpoint is served only over HTTPS. The request was sent in"
    " cleartext and was not processed; send it again over HTTPS."
)
CLIENT_CERTIFICATE_REQUIRED = (
    "This endpoint requires a valid client certificate, presented in the TLS handshake."
)
BAD_HOST = (
    "The request's Host header is missing, invalid or not trusted, so it"
    " cannot be redirected to HTTPS."
)


class _Redirect(Response):
    """A redirect whose Location is already an absolute URI of safe ASCII.

    Werkzeug re-encodes every Location with ``iri_to_uri`` when the response
    is sent, at a cost larger than the rest of the redirect; ours needs none.
    """

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        location = self.headers.get("Location")
        if location is None or _URI.fullmatch(location):
            return self.headers.copy()
        return super().get_wsgi_headers(environ)  # a hook of the app changed it


def redirect_cache_control(max_age: int) -> str:
    """Return the ``Cache-Control`` of a redirect that clients may keep for
    ``max_age`` seconds: ``no-store`` for 0.

    Without one, browsers keep a 301 or 308 indefinitely, so one that once
    forced HTTPS would go on doing it after an administrator stopped.

    :param max_age: ``ENFORCE_HTTPS_REDIRECT_MAX_AGE``.
    """
    return f"max-age={max_age}" if max_age else "no-store"


@functools.cache  # one entry per distinct config value: built once, not per request
def _redirect_headers(max_age: int) -> tuple[tuple[str, str], ...]:
    return (("Cache-Control", redirect_cache_control(max_age)), _NOSNIFF)


def redirect(location: str, code: int, max_age: int) -> Response:
    """Return a redirect to ``location`` with a short HTML note.

    :param location: An absolute URL, already safe for a header.
    :param code: The redirect status code.
    :param max_age: Seconds clients may cache it, as for
        :func:`redirect_cache_control`.
    """
    link = escape(location)
    body = f'<!doctype html>\n<title>Redirecting</title>\n<a href="{link}">{link}</a>\n'
    headers = [("Location", location), *_redirect_headers(max_age)]
    return _Redirect(body, code, headers, mimetype="text/html")


def soap_version(request: Request) -> str:
    """Return ``"1.2"`` when the request speaks SOAP 1.2, else ``"1.1"``.

    :param request: The incoming request.
    """
    return "1.2" if request.mimetype == "application/soap+xml" else "1.1"


def refusal(kind: Kind, status: int, detail: str, request: Request) -> Response:
    """Return a refusal in the format the endpoint's clients understand.

    :param kind: The endpoint kind.
    :param status: The HTTP status, 400 or 403.
    :param detail: What went wrong and what to do, in one or two sentences.
    :param request: The request, for the SOAP version.
    """
    title = _REASONS[status]
    if kind is Kind.REST:
        problem = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
        return Response(
            json.dumps(problem),
            status,
            _REFUSAL_HEADERS,
            mimetype="application/problem+json",
        )
    if kind is Kind.SOAP:
        if soap_version(request) == "1.2":
            return Response(
                _SOAP12.format(text=escape(detail)),
                status,
                _REFUSAL_HEADERS,
                mimetype="application/soap+xml",
            )
        return Response(
            _SOAP11.format(text=escape(detail)),
            status,
            _REFUSAL_HEADERS,
            mimetype="text/xml",
        )
    body = _HTML.format(status=status, title=title, text=escape(detail))
    return Response(body, status, _REFUSAL_HEADERS, mimetype="text/html")
