"""Client certificates (mutual TLS) for endpoints at ``tls-client-cert``.

Such an endpoint needs HTTPS and a client certificate that chains to
``ENFORCE_HTTPS_CLIENT_CA``: from the WSGI server (``SSL_CLIENT_CERT``) or,
from a trusted proxy only, from the ``X-SSL-Client-Cert`` header. Every
problem with the certificate is a 403 in the endpoint's own format, with a
``request_rejected`` signal that says why; never a 500. Certificates are made
at test time (:mod:`pki`) and live only in memory or in ``tmp_path``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import functools
import http.client
import json
import ssl
import typing as t
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import create_app, serving_tls
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from flask import Blueprint, Flask, Response
from flask.testing import FlaskClient
from pki import CA, DAY, Issued
from pki import test_ca as session_ca
from pki import test_ca_path as session_ca_path
from werkzeug.test import TestResponse

from flask_enforce_https import (
    ConfigurationError,
    EnforceHTTPS,
    client_certificate,
    signals,
)
from flask_enforce_https.client_certs import ClientCAs, ClientCertificateError

HTTPS = "https://localhost"
HEADER = "X-SSL-Client-Cert"
PROXY = "127.0.0.1"
BEHIND_PROXY: dict[str, t.Any] = {"environment": {"trusted_proxies": [PROXY]}}
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPE11 = f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><Ping/></s:Body></s:Envelope>'
ENVELOPE12 = f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><Ping/></s:Body></s:Envelope>'
#: The size cap of the header, from the issue.
HEADER_CAP = 16384

mtls = EnforceHTTPS()


# -- certificates ------------------------------------------------------------


@functools.cache
def intermediate() -> CA:
    """An intermediate CA under the session's client CA."""
    return CA("Test Client Intermediate CA", parent=session_ca())


@functools.cache
def other_ca() -> CA:
    """A CA that the applications do not trust."""
    return CA("Some Other CA")


_SHAPES: dict[str, Callable[[], Issued]] = {
    "client": lambda: session_ca().issue("partner-client", usage="client"),
    "both": lambda: session_ca().issue("partner-both", usage="both"),
    "no-eku": lambda: session_ca().issue("partner-no-eku", usage=None),
    "no-san": lambda: session_ca().issue("partner-no-san", usage="client", san=False),
    "rsa": lambda: session_ca().issue("partner-rsa", usage="client", key="rsa2048"),
    "intermediate": lambda: intermediate().issue("partner-inter", usage="client"),
    "expired": lambda: session_ca().issue(
        "partner-expired", usage="client", starts=-100 * DAY, lasts=10 * DAY
    ),
    "not-yet-valid": lambda: session_ca().issue(
        "partner-future", usage="client", starts=10 * DAY
    ),
    "other-ca": lambda: other_ca().issue("partner-other", usage="client"),
    "server-eku": lambda: session_ca().issue("partner-server", usage="server"),
}


@functools.cache
def issued(shape: str) -> Issued:
    """The certificate of one shape, made once per session."""
    return _SHAPES[shape]()


def pem(shape: str, with_chain: bool = True) -> str:
    """The PEM text of a certificate shape, then its intermediates."""
    return issued(shape).cert_pem(with_chain).decode("ascii")


def der_to_pem(der: bytes) -> str:
    """Wrap DER bytes as a PEM certificate, 64 characters a line."""
    data = base64.b64encode(der).decode("ascii")
    lines = [data[i : i + 64] for i in range(0, len(data), 64)]
    return "\n".join(
        ["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----", ""]
    )


def forged_signature() -> str:
    """A valid client certificate with one bit of its signature flipped."""
    der = bytearray(issued("client").cert.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    return der_to_pem(bytes(der))


def forged_subject() -> str:
    """A valid client certificate whose subject was edited after signing."""
    der = issued("client").cert.public_bytes(serialization.Encoding.DER)
    assert der.count(b"partner-client") == 1
    return der_to_pem(der.replace(b"partner-client", b"partner-attack"))


def common_name_of(cert: x509.Certificate) -> str:
    (attribute,) = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attribute.value)


# -- the test application ------------------------------------------------------


def presented_name() -> str:
    """What the views answer: the CN of ``client_certificate()``, or "-"."""
    cert = client_certificate()
    if cert is None:
        return "-"
    assert isinstance(cert, x509.Certificate)
    return common_name_of(cert)


def create_mtls_app(settings: t.Any = None, **config: t.Any) -> Flask:
    """Return an app named "partners" with a ``tls-client-cert`` endpoint of
    every kind, built like conftest's :func:`create_app`.

    ===========  ======  ===============  ==========================
    URL          kind    level            answers
    ===========  ======  ===============  ==========================
    /screen      screen  tls-client-cert  the client certificate's CN
    /rest        rest    tls-client-cert  ``{"cn": CN}``
    /soap        soap    tls-client-cert  ``<cn>CN</cn>``
    /tls         rest    tls              ``{"cn": CN}``
    /open        screen  none             the CN
    ===========  ======  ===============  ==========================

    The CN is "-" when ``client_certificate()`` returns ``None``.
    """
    app = Flask("partners")
    app.config.update(
        TESTING=True,
        ENFORCE_HTTPS_SETTINGS=settings,
        ENFORCE_HTTPS_CLIENT_CA=str(session_ca_path()),
        ENFORCE_HTTPS_CLIENT_CERT_HEADER=HEADER,
    )
    app.config.update(config)

    @app.route("/screen", methods=["GET", "POST"])
    @mtls.screen("tls-client-cert")
    def screen() -> Response:
        return Response(presented_name(), mimetype="text/html")

    @app.route("/rest", methods=["GET", "POST"])
    @mtls.rest("tls-client-cert")
    def rest() -> dict[str, t.Any]:
        return {"cn": presented_name()}

    @app.post("/soap")
    @mtls.soap("tls-client-cert")
    def soap() -> Response:
        return Response(f"<cn>{presented_name()}</cn>", mimetype="text/xml")

    @app.get("/tls")
    @mtls.rest("tls")
    def tls() -> dict[str, t.Any]:
        return {"cn": presented_name()}

    @app.get("/open")
    @mtls.screen("none")
    def open_page() -> Response:
        return Response(presented_name(), mimetype="text/html")

    mtls.init_app(app)
    return app


@dataclass(frozen=True)
class Endpoint:
    """One ``tls-client-cert`` endpoint of :func:`create_mtls_app`, and how
    its clients speak to it."""

    kind: str
    path: str
    method: str
    content_type: str | None = None
    body: str | None = None

    def send(self, client: FlaskClient, **kwargs: t.Any) -> TestResponse:
        """Send the endpoint's request with the test client."""
        headers = dict(kwargs.pop("headers", {}))
        if self.content_type is not None:
            headers["Content-Type"] = self.content_type
        return client.open(
            self.path, method=self.method, data=self.body, headers=headers, **kwargs
        )

    def served_name(self, response: TestResponse) -> str:
        """The CN the view answered with."""
        assert response.status_code == 200, response.get_data(as_text=True)
        if self.kind == "rest":
            assert response.json is not None
            return str(response.json["cn"])
        text = response.get_data(as_text=True)
        if self.kind.startswith("soap"):
            return text.removeprefix("<cn>").removesuffix("</cn>")
        return text

    def refusal_text(self, response: TestResponse) -> str:
        """Check the 403 is in the endpoint's format and return what it says."""
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "Location" not in response.headers
        if self.kind == "rest":
            assert response.mimetype == "application/problem+json"
            problem = json.loads(response.data)
            assert problem["status"] == 403
            assert problem["title"] == "Forbidden"
            assert problem["type"] == "about:blank"
            return str(problem["detail"])
        if self.kind == "soap11":
            assert response.mimetype == "text/xml"
            root = ET.fromstring(response.data)  # noqa: S314 (our own response)
            assert root.tag == f"{{{SOAP11}}}Envelope"
            fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
            assert fault is not None
            assert fault.findtext("faultcode") == "soap:Client"
            return fault.findtext("faultstring") or ""
        if self.kind == "soap12":
            assert response.mimetype == "application/soap+xml"
            root = ET.fromstring(response.data)  # noqa: S314 (our own response)
            assert root.tag == f"{{{SOAP12}}}Envelope"
            ns = {"env": SOAP12}
            fault = "env:Body/env:Fault"
            assert root.findtext(f"{fault}/env:Code/env:Value", namespaces=ns) == (
                "env:Sender"
            )
            return root.findtext(f"{fault}/env:Reason/env:Text", namespaces=ns) or ""
        assert response.mimetype == "text/html"
        text = response.get_data(as_text=True)
        assert "<h1>Forbidden</h1>" in text
        return text


SCREEN = Endpoint("screen", "/screen", "GET")
REST = Endpoint("rest", "/rest", "GET")
SOAP_11 = Endpoint("soap11", "/soap", "POST", "text/xml; charset=utf-8", ENVELOPE11)
SOAP_12 = Endpoint(
    "soap12", "/soap", "POST", "application/soap+xml; charset=utf-8", ENVELOPE12
)
ENDPOINTS = [
    pytest.param(SCREEN, id="screen"),
    pytest.param(REST, id="rest"),
    pytest.param(SOAP_11, id="soap11"),
    pytest.param(SOAP_12, id="soap12"),
]


@pytest.fixture
def mtls_app(settings: t.Any) -> Flask:
    return create_mtls_app(settings)


@pytest.fixture
def mtls_client(mtls_app: Flask) -> FlaskClient:
    return mtls_app.test_client()


@contextlib.contextmanager
def rejections(app: Flask) -> Iterator[list[tuple[object, dict[str, t.Any]]]]:
    """Record every ``request_rejected`` signal ``app`` sends."""
    calls: list[tuple[object, dict[str, t.Any]]] = []

    def record(sender: object, **kwargs: t.Any) -> None:
        calls.append((sender, kwargs))

    with signals.request_rejected.connected_to(record, app):
        yield calls


def only_rejection(app: Flask, calls: list[tuple[object, dict[str, t.Any]]]) -> str:
    """Check one 403 rejection was signalled by ``app``; return its reason."""
    assert len(calls) == 1, calls
    sender, kwargs = calls[0]
    assert sender is app
    assert kwargs["status"] == 403
    return str(kwargs["reason"])


def direct(value: str) -> dict[str, t.Any]:
    """Request options presenting ``value`` as the WSGI server would."""
    return {"base_url": HTTPS, "environ_base": {"SSL_CLIENT_CERT": value}}


def via_proxy(value: str, remote_addr: str = PROXY) -> dict[str, t.Any]:
    """Request options presenting ``value`` as nginx would, in the header,
    over plain HTTP from the proxy at ``remote_addr``."""
    return {
        "headers": {HEADER: value, "X-Forwarded-Proto": "https"},
        "environ_base": {"REMOTE_ADDR": remote_addr},
    }


# -- valid certificates ------------------------------------------------------


VALID = [
    pytest.param("client", "partner-client", id="eku-client-auth"),
    pytest.param("both", "partner-both", id="eku-server-and-client-auth"),
    pytest.param("no-eku", "partner-no-eku", id="no-eku"),
    pytest.param("no-san", "partner-no-san", id="no-san-cn-only"),
    pytest.param("rsa", "partner-rsa", id="rsa-key"),
    pytest.param("intermediate", "partner-inter", id="intermediate-appended"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("shape", "common_name"), VALID)
def test_valid_certificate_is_served_and_returned(
    mtls_app: Flask,
    mtls_client: FlaskClient,
    endpoint: Endpoint,
    shape: str,
    common_name: str,
) -> None:
    with rejections(mtls_app) as calls:
        response = endpoint.send(mtls_client, **direct(pem(shape)))
    assert endpoint.served_name(response) == common_name
    assert calls == []


def test_shop_partner_is_served_with_a_certificate(client: FlaskClient) -> None:
    response = client.get("/partner", **direct(pem("client")))
    assert response.status_code == 200
    assert response.json == {"partner": True}


def test_client_certificate_is_the_verified_leaf(mtls_app: Flask) -> None:
    """During the request, ``client_certificate()`` is the leaf itself, not
    the intermediate that came with it."""
    seen: list[x509.Certificate | None] = []

    @mtls_app.get("/leaf")
    @mtls.rest("tls-client-cert")
    def leaf() -> dict[str, t.Any]:
        seen.append(client_certificate())
        return {}

    response = mtls_app.test_client().get("/leaf", **direct(pem("intermediate")))
    assert response.status_code == 200
    assert seen == [issued("intermediate").cert]


def test_blueprint_at_tls_client_cert_covers_its_views() -> None:
    partners = mtls.rest("tls-client-cert")(Blueprint("b2b", __name__))

    @partners.get("/b2b/orders")
    def orders() -> dict[str, t.Any]:
        return {"cn": presented_name()}

    app = Flask("blueprints")
    app.config.update(TESTING=True, ENFORCE_HTTPS_CLIENT_CA=str(session_ca_path()))
    app.register_blueprint(partners)
    EnforceHTTPS(app)
    client = app.test_client()
    assert client.get("/b2b/orders", base_url=HTTPS).status_code == 403
    served = client.get("/b2b/orders", **direct(pem("client")))
    assert served.json == {"cn": "partner-client"}


# -- refused certificates ----------------------------------------------------


REFUSED = [
    pytest.param(None, "no client certificate", id="no-certificate"),
    pytest.param(pem("expired"), "not valid", id="expired"),
    pytest.param(pem("not-yet-valid"), "not valid", id="not-yet-valid"),
    pytest.param(pem("other-ca"), "does not verify", id="issued-by-another-ca"),
    pytest.param(pem("server-eku"), "EKU", id="eku-server-auth-only"),
    pytest.param(
        pem("intermediate", with_chain=False),
        "does not verify",
        id="intermediate-missing",
    ),
    pytest.param(session_ca().pem().decode(), "does not verify", id="the-ca-itself"),
    pytest.param(forged_signature(), "client certificate", id="forged-signature"),
    pytest.param(forged_subject(), "client certificate", id="forged-subject"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("presented", "problem"), REFUSED)
def test_bad_certificate_is_refused_with_a_reason(
    mtls_app: Flask,
    mtls_client: FlaskClient,
    endpoint: Endpoint,
    presented: str | None,
    problem: str,
) -> None:
    options = {"base_url": HTTPS} if presented is None else direct(presented)
    with rejections(mtls_app) as calls:
        response = endpoint.send(mtls_client, **options)
    assert "client certificate" in endpoint.refusal_text(response)
    reason = only_rejection(mtls_app, calls)
    assert "client certificate" in reason
    assert problem in reason
    assert "tls-client-cert" in reason


def test_an_empty_ssl_client_cert_is_no_certificate(
    mtls_app: Flask, mtls_client: FlaskClient
) -> None:
    with rejections(mtls_app) as calls:
        response = mtls_client.get("/rest", **direct(""))
    assert "client certificate" in REST.refusal_text(response)
    assert "no client certificate" in only_rejection(mtls_app, calls)


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param("other-ca", id="other-ca"),
        pytest.param("server-eku", id="eku"),
    ],
)
def test_refusal_does_not_show_cryptography_internals(shape: str) -> None:
    client = create_app().test_client()
    response = client.get(
        "/partner",
        base_url="https://localhost",
        environ_base={"SSL_CLIENT_CERT": pem(shape)},
    )
    assert response.status_code == 403
    detail = json.loads(response.data)["detail"]
    assert "does not verify" in detail
    assert "encountered processing" not in detail
    assert "<Certificate" not in detail


# -- garbage -------------------------------------------------------------------


def _garbage() -> list[t.Any]:
    good = pem("client")
    lines = good.splitlines()
    return [
        pytest.param("this is not a certificate", id="random-text"),
        pytest.param(good[: len(good) // 2], id="truncated-pem"),
        pytest.param(
            "\n".join([*lines[:3], lines[-1], ""]), id="truncated-body-with-end"
        ),
        pytest.param(
            der_to_pem(b"valid base64, but not a certificate in DER" * 3),
            id="base64-not-a-certificate",
        ),
        pytest.param(der_to_pem(b"\x30\x82\xff\xff" + b"\x00" * 40), id="bad-der"),
        pytest.param(
            "-----BEGIN CERTIFICATE-----\nMIIB\u00e9\u4e2d\u2713\n"
            "-----END CERTIFICATE-----\n",
            id="non-ascii-in-pem",
        ),
        pytest.param("Zertifikat: gr\u00fc\u00dfe \u2713 \U0001f512", id="non-ascii"),
        pytest.param(
            "-----BEGIN CERTIFICATE-----\n!!! junk *** ###\n"
            "-----END CERTIFICATE-----\n",
            id="begin-certificate-with-junk",
        ),
        pytest.param(
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            id="empty-pem-block",
        ),
        pytest.param("\n".join(lines[:-1]), id="begin-without-end"),
        pytest.param(
            issued("client").key_pem().decode("ascii"), id="private-key-not-cert"
        ),
        pytest.param("\x00\x01\x02\x7f", id="control-characters"),
    ]


GARBAGE = _garbage()


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("source", ["environ", "header"])
def test_garbage_is_refused_never_500(
    garbage: str,
    source: str,
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    options = direct(garbage) if source == "environ" else via_proxy(quote(garbage))
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **options)
    assert "client certificate" in REST.refusal_text(response)
    reason = only_rejection(app, calls)
    assert "client certificate" in reason


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("%FF%FE%00%C3", id="invalid-utf8-escapes"),
        pytest.param("%ZZ%-----BEGIN CERTIFICATE-----%", id="bad-escapes"),
        pytest.param("%" * 100, id="only-percent-signs"),
    ],
)
def test_garbled_header_is_refused_never_500(value: str) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **via_proxy(value))
    assert "client certificate" in REST.refusal_text(response)
    assert "client certificate" in only_rejection(app, calls)


# -- the header from a trusted proxy -----------------------------------------


HEADER_ENCODINGS = [
    pytest.param(lambda p: quote(p), "client", id="url-encoded"),
    pytest.param(lambda p: quote(p.replace("\n", " ")), "client", id="folded-encoded"),
    pytest.param(lambda p: p.replace("\n", " ").strip(), "client", id="folded-raw"),
    pytest.param(lambda p: quote(p), "intermediate", id="url-encoded-with-chain"),
    pytest.param(
        lambda p: p.replace("\n", " ").strip(), "intermediate", id="folded-chain"
    ),
    pytest.param(lambda p: quote(p, safe=""), "no-san", id="url-encoded-all"),
]


@pytest.mark.parametrize(("encode", "shape"), HEADER_ENCODINGS)
def test_header_from_trusted_proxy_is_used(
    encode: Callable[[str], str], shape: str
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **via_proxy(encode(pem(shape))))
    assert REST.served_name(response) == common_name_of(issued(shape).cert)
    assert calls == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_header_serves_every_kind(endpoint: Endpoint) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    response = endpoint.send(app.test_client(), **via_proxy(quote(pem("client"))))
    assert endpoint.served_name(response) == "partner-client"


def test_shop_partner_from_trusted_proxy() -> None:
    client = create_app(BEHIND_PROXY).test_client()
    response = client.get("/partner", **via_proxy(quote(pem("client"))))
    assert response.status_code == 200
    assert response.json == {"partner": True}


def test_header_from_untrusted_address_over_https_is_ignored() -> None:
    app = create_mtls_app(BEHIND_PROXY)
    with rejections(app) as calls:
        response = app.test_client().get(
            "/rest",
            base_url=HTTPS,
            headers={HEADER: quote(pem("client"))},
            environ_base={"REMOTE_ADDR": "192.0.2.7"},
        )
    assert "client certificate" in REST.refusal_text(response)
    assert "no client certificate" in only_rejection(app, calls)


def test_header_from_untrusted_address_over_http_is_ignored() -> None:
    app = create_mtls_app(BEHIND_PROXY)
    with rejections(app) as calls:
        response = app.test_client().get(
            "/rest", **via_proxy(quote(pem("client")), remote_addr="192.0.2.7")
        )
    assert "HTTPS" in REST.refusal_text(response)
    assert len(calls) == 1


def test_header_is_ignored_without_trusted_proxies() -> None:
    app = create_mtls_app()
    with rejections(app) as calls:
        response = app.test_client().get(
            "/rest", base_url=HTTPS, headers={HEADER: quote(pem("client"))}
        )
    assert "client certificate" in REST.refusal_text(response)
    assert "no client certificate" in only_rejection(app, calls)


def test_header_is_ignored_when_no_header_is_configured() -> None:
    app = create_mtls_app(BEHIND_PROXY, ENFORCE_HTTPS_CLIENT_CERT_HEADER=None)
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **via_proxy(quote(pem("client"))))
    assert "client certificate" in REST.refusal_text(response)
    assert "no client certificate" in only_rejection(app, calls)


def test_configured_header_name_is_used() -> None:
    app = create_mtls_app(BEHIND_PROXY, ENFORCE_HTTPS_CLIENT_CERT_HEADER="X-Client")
    client = app.test_client()
    headers = {"X-Client": quote(pem("client")), "X-Forwarded-Proto": "https"}
    response = client.get("/rest", headers=headers)
    assert REST.served_name(response) == "partner-client"
    response = client.get("/rest", **via_proxy(quote(pem("client"))))
    assert response.status_code == 403


def padded(value: str, length: int) -> str:
    """``value`` with text after its last PEM block, ``length`` characters
    in all (the text after the block is not part of the certificate)."""
    assert len(value) <= length
    return value + "x" * (length - len(value))


@pytest.mark.parametrize(
    ("length", "status"),
    [
        pytest.param(HEADER_CAP, 200, id="at-the-cap"),
        pytest.param(HEADER_CAP + 1, 403, id="one-over-the-cap"),
        pytest.param(HEADER_CAP * 64, 403, id="a-megabyte"),
    ],
)
def test_header_is_size_capped(length: int, status: int) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    value = padded(quote(pem("client")), length)
    assert len(value) == length
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **via_proxy(value))
    assert response.status_code == status
    if status == 200:
        assert REST.served_name(response) == "partner-client"
        assert calls == []
    else:
        assert "client certificate" in REST.refusal_text(response)
        assert str(HEADER_CAP) in only_rejection(app, calls)


# -- client_certificate() elsewhere --------------------------------------------


@pytest.mark.parametrize(
    "path",
    [pytest.param("/tls", id="rest-tls"), pytest.param("/open", id="screen-none")],
)
@pytest.mark.parametrize(
    "options",
    [
        pytest.param(direct(pem("client")), id="ssl-client-cert"),
        pytest.param(via_proxy(quote(pem("client"))), id="proxy-header"),
    ],
)
def test_client_certificate_is_none_off_tls_client_cert(
    path: str, options: dict[str, t.Any]
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    response = app.test_client().get(path, **options)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert (response.json["cn"] if response.is_json else text) == "-"


def test_certificate_does_not_leak_between_requests(
    mtls_client: FlaskClient,
) -> None:
    assert REST.served_name(mtls_client.get("/rest", **direct(pem("client")))) == (
        "partner-client"
    )
    response = mtls_client.get("/tls", base_url=HTTPS)
    assert response.json == {"cn": "-"}


# -- plain HTTP ----------------------------------------------------------------


@pytest.mark.parametrize(
    "with_certificate",
    [
        pytest.param(False, id="bare"),
        pytest.param(True, id="with-cert"),
    ],
)
@pytest.mark.parametrize(
    ("endpoint", "detail"),
    [
        pytest.param(REST, "HTTPS", id="rest"),
        pytest.param(SOAP_11, "HTTPS", id="soap11"),
        pytest.param(SOAP_12, "HTTPS", id="soap12"),
    ],
)
def test_integration_over_http_needs_https(
    mtls_app: Flask,
    mtls_client: FlaskClient,
    endpoint: Endpoint,
    detail: str,
    with_certificate: bool,
) -> None:
    environ = {"SSL_CLIENT_CERT": pem("client")} if with_certificate else {}
    with rejections(mtls_app) as calls:
        response = endpoint.send(mtls_client, environ_base=environ)
    text = endpoint.refusal_text(response)
    assert detail in text
    assert "only over HTTPS" in text
    assert len(calls) == 1
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    ("method", "code"),
    [pytest.param("GET", 301, id="get-301"), pytest.param("POST", 308, id="post-308")],
)
def test_screen_over_http_is_redirected(
    mtls_app: Flask, mtls_client: FlaskClient, method: str, code: int
) -> None:
    redirected: list[dict[str, t.Any]] = []

    def record(sender: object, **kwargs: t.Any) -> None:
        redirected.append(kwargs)

    with signals.request_redirected.connected_to(record, mtls_app):
        response = mtls_client.open("/screen?a=1", method=method)
    assert response.status_code == code
    assert response.headers["Location"] == "https://localhost/screen?a=1"
    assert len(redirected) == 1


def test_shop_partner_over_http_needs_https(client: FlaskClient) -> None:
    response = client.get("/partner")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "HTTPS" in json.loads(response.data)["detail"]


# -- exempt paths ----------------------------------------------------------------


# An exempt path is exempt from what the administrator forced, never from the
# design: a tls-client-cert endpoint there still needs its certificate.


@pytest.mark.settings({"environment": {"exempt_paths": ["/rest", "/screen"]}})
@pytest.mark.parametrize(
    "endpoint",
    [pytest.param(REST, id="rest"), pytest.param(SCREEN, id="screen")],
)
def test_exempt_path_still_needs_a_certificate(
    mtls_app: Flask, mtls_client: FlaskClient, endpoint: Endpoint
) -> None:
    with rejections(mtls_app) as calls:
        response = endpoint.send(mtls_client, base_url=HTTPS)
    assert response.status_code == 403
    assert "no client certificate" in only_rejection(mtls_app, calls)


@pytest.mark.settings({"environment": {"exempt_paths": ["/rest", "/screen"]}})
def test_exempt_path_at_tls_client_cert_is_not_served_over_http(
    mtls_client: FlaskClient,
) -> None:
    assert mtls_client.get("/rest").status_code == 403
    screen = mtls_client.get("/screen")
    assert screen.status_code == 301
    assert screen.headers["Location"].startswith("https://")


@pytest.mark.settings({"environment": {"exempt_paths": ["/rest"]}})
def test_exempt_path_with_a_certificate_is_served(mtls_client: FlaskClient) -> None:
    response = mtls_client.get("/rest", **direct(pem("client")))
    assert REST.served_name(response) == "partner-client"


def test_exempt_paths_on_shop_partner() -> None:
    # The documented client_certificate() example would crash on None.
    app = create_app({"environment": {"exempt_paths": ["/partner"]}})
    response = app.test_client().get("/partner", base_url=HTTPS)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


# -- the CA bundle ---------------------------------------------------------------


def test_bundle_of_several_cas_accepts_each(tmp_path: Path) -> None:
    bundle = tmp_path / "client-cas.pem"
    bundle.write_bytes(other_ca().pem() + session_ca().pem())
    app = create_mtls_app(ENFORCE_HTTPS_CLIENT_CA=str(bundle))
    client = app.test_client()
    for shape, name in (("other-ca", "partner-other"), ("client", "partner-client")):
        assert REST.served_name(client.get("/rest", **direct(pem(shape)))) == name


def test_only_the_configured_ca_is_trusted(tmp_path: Path) -> None:
    bundle = tmp_path / "other.pem"
    bundle.write_bytes(other_ca().pem())
    app = create_mtls_app(ENFORCE_HTTPS_CLIENT_CA=bundle)
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **direct(pem("client")))
    assert "client certificate" in REST.refusal_text(response)
    assert "does not verify" in only_rejection(app, calls)


# -- the cache -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "status"),
    [
        pytest.param("client", 200, id="valid"),
        pytest.param("expired", 403, id="expired"),
        pytest.param("other-ca", 403, id="other-ca"),
    ],
)
def test_same_pem_twice_gives_the_same_outcome(
    mtls_app: Flask, mtls_client: FlaskClient, shape: str, status: int
) -> None:
    with rejections(mtls_app) as calls:
        first = mtls_client.get("/rest", **direct(pem(shape)))
        second = mtls_client.get("/rest", **direct(pem(shape)))
    assert first.status_code == second.status_code == status
    assert first.data == second.data
    if status == 403:
        assert len(calls) == 2
        assert calls[0][1]["reason"] == calls[1][1]["reason"]


@pytest.fixture
def client_cas(tmp_path: Path) -> ClientCAs:
    path = tmp_path / "ca.pem"
    path.write_bytes(session_ca().pem())
    return ClientCAs(path, HEADER)


def test_verify_returns_the_certificate_and_caches_it(client_cas: ClientCAs) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    first = client_cas.verify(pem("client"), now)
    second = client_cas.verify(pem("client"), now)
    assert first == issued("client").cert
    assert second is first


def test_verify_refusal_is_the_same_twice(client_cas: ClientCAs) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    messages = []
    for _ in range(2):
        with pytest.raises(ClientCertificateError) as excinfo:
            client_cas.verify(pem("other-ca"), now)
        messages.append(str(excinfo.value))
    assert messages[0] == messages[1]
    assert "does not verify" in messages[0]


@pytest.mark.parametrize(
    "moment",
    [
        pytest.param(
            lambda c: c.not_valid_after_utc + datetime.timedelta(seconds=1),
            id="after-not-valid-after",
        ),
        pytest.param(lambda c: c.not_valid_after_utc + 365 * DAY, id="a-year-later"),
        pytest.param(
            lambda c: c.not_valid_before_utc - datetime.timedelta(seconds=1),
            id="before-not-valid-before",
        ),
    ],
)
def test_cached_certificate_is_refused_outside_its_validity(
    client_cas: ClientCAs, moment: Callable[[x509.Certificate], datetime.datetime]
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = client_cas.verify(pem("client"), now)
    with pytest.raises(ClientCertificateError, match="valid"):
        client_cas.verify(pem("client"), moment(cert))
    # Still good at the time it was first verified.
    assert client_cas.verify(pem("client"), now) is cert


def test_cached_certificate_is_good_up_to_not_valid_after(
    client_cas: ClientCAs,
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = client_cas.verify(pem("client"), now)
    assert client_cas.verify(pem("client"), cert.not_valid_after_utc) is cert


def test_presented_header_only_when_trusted(client_cas: ClientCAs) -> None:
    value = quote(pem("client"))
    environ = {"HTTP_X_SSL_CLIENT_CERT": value}
    assert client_cas.presented(environ, trusted=True) == pem("client")
    assert client_cas.presented(environ, trusted=False) is None
    both = {**environ, "SSL_CLIENT_CERT": pem("both")}
    assert client_cas.presented(both, trusted=True) == pem("both")
    assert client_cas.presented(both, trusted=False) == pem("both")
    too_long = {"HTTP_X_SSL_CLIENT_CERT": "x" * (HEADER_CAP + 1)}
    with pytest.raises(ClientCertificateError, match=str(HEADER_CAP)):
        client_cas.presented(too_long, trusted=True)
    assert client_cas.presented(too_long, trusted=False) is None


# -- flask https explain -------------------------------------------------------


def explain(*options: str) -> dict[str, t.Any]:
    runner = create_app(BEHIND_PROXY).test_cli_runner()
    result = runner.invoke(
        args=[
            "https",
            "explain",
            "https://localhost/partner",
            *options,
            "--remote-addr",
            PROXY,
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None, repr(result.exception)
    return t.cast("dict[str, t.Any]", json.loads(result.output))


def test_explain_with_the_header_is_served() -> None:
    result = explain("-H", f"{HEADER}: {quote(pem('client'))}")
    assert result["outcome"] == "served"
    assert result["status"] is None
    assert result["effective"] == "tls-client-cert"


def test_explain_without_the_header_is_rejected() -> None:
    result = explain()
    assert result["outcome"] == "rejected"
    assert result["status"] == 403
    assert any("client certificate" in reason for reason in result["reasons"])


def test_explain_with_a_bad_certificate_says_why() -> None:
    result = explain("-H", f"{HEADER}: {quote(pem('expired'))}")
    assert result["outcome"] == "rejected"
    assert result["status"] == 403
    assert "not valid" in result["reasons"][0]


def test_explain_text() -> None:
    runner = create_app(BEHIND_PROXY).test_cli_runner()
    base = ["https", "explain", "https://localhost/partner", "--remote-addr", PROXY]
    served = runner.invoke(args=[*base, "-H", f"{HEADER}: {quote(pem('client'))}"])
    assert served.exit_code == 0, served.output
    assert "served" in served.output
    rejected = runner.invoke(args=base)
    assert rejected.exit_code == 0, rejected.output
    assert "rejected 403" in rejected.output
    assert "client certificate" in rejected.output


# -- a real TLS socket -----------------------------------------------------------


@dataclass(frozen=True)
class TLSServer:
    """A live HTTPS server, and what a client needs to trust it."""

    port: int
    server_ca: CA


@contextlib.contextmanager
def serving_tls_asking(app: Flask, tmp_path: Path) -> Iterator[TLSServer]:
    """Serve ``app`` over TLS on loopback, asking for (not requiring) a
    client certificate issued by the session's client CA."""
    server_ca = CA("Test Server CA")
    cert, key = server_ca.issue(
        "127.0.0.1", dns=("localhost",), ips=("127.0.0.1",), usage="server"
    ).write(tmp_path, "server")
    client_ca = session_ca().pem().decode("ascii")
    with serving_tls(app, cert, key, client_ca=client_ca) as port:
        yield TLSServer(port, server_ca)


def tls_get(
    server: TLSServer, path: str, client_cert: tuple[Path, Path] | None
) -> tuple[int, str, bytes]:
    """GET ``path`` over TLS; return the status, content type and body."""
    context = ssl.create_default_context(cadata=server.server_ca.pem().decode("ascii"))
    if client_cert is not None:
        context.load_cert_chain(*client_cert)
    connection = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=context, timeout=10
    )
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, response.getheader("Content-Type", ""), body
    finally:
        connection.close()


def test_real_tls_partner_with_a_client_certificate(tmp_path: Path) -> None:
    client_cert = issued("client").write(tmp_path, "client")
    with serving_tls_asking(create_app(), tmp_path) as server:
        status, content_type, body = tls_get(server, "/partner", client_cert)
    assert status == 200
    assert json.loads(body) == {"partner": True}
    assert content_type.startswith("application/json")


def test_real_tls_partner_without_a_client_certificate(tmp_path: Path) -> None:
    with serving_tls_asking(create_app(), tmp_path) as server:
        status, content_type, body = tls_get(server, "/partner", None)
    assert status == 403
    assert content_type.startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 403
    assert "client certificate" in problem["detail"]


def test_real_tls_client_certificate_reaches_the_view(tmp_path: Path) -> None:
    client_cert = issued("no-san").write(tmp_path, "client")
    with serving_tls_asking(create_mtls_app(), tmp_path) as server:
        status, _, body = tls_get(server, "/rest", client_cert)
        status_tls, _, body_tls = tls_get(server, "/tls", client_cert)
    assert (status, json.loads(body)) == (200, {"cn": "partner-no-san"})
    assert (status_tls, json.loads(body_tls)) == (200, {"cn": "-"})


# -- configuration errors --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="unset"),
        pytest.param("", id="empty"),
    ],
)
def test_tls_client_cert_without_a_ca_fails_at_init_app(value: str | None) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        create_app(ENFORCE_HTTPS_CLIENT_CA=value)
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert "ENFORCE_HTTPS_CLIENT_CA" in str(excinfo.value)
    assert "'partner'" in str(excinfo.value)


def test_every_kind_without_a_ca_fails_at_init_app() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        create_mtls_app(ENFORCE_HTTPS_CLIENT_CA=None)
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    for name in ("'screen'", "'rest'", "'soap'"):
        assert name in str(excinfo.value)
    assert "'tls'" not in str(excinfo.value)


def late_app(**config: t.Any) -> Flask:
    """An app with no ``tls-client-cert`` endpoint at ``init_app``, and one
    added after it, at ``/late``."""
    app = Flask("late")
    app.config.update(TESTING=True, **config)

    @app.get("/")
    @mtls.screen("tls")
    def home() -> str:
        return "home"

    EnforceHTTPS(app)

    @app.get("/late")
    @mtls.rest("tls-client-cert")
    def late() -> dict[str, t.Any]:
        return {"cn": presented_name()}

    return app


def test_endpoint_added_after_init_app_without_a_ca_fails_at_first_request() -> None:
    app = late_app()
    client = app.test_client()
    with pytest.raises(ConfigurationError) as excinfo:
        client.get("/late", base_url=HTTPS)
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert "'late'" in str(excinfo.value)


def test_endpoint_added_after_init_app_without_a_ca_fails_on_any_request() -> None:
    app = late_app()
    with pytest.raises(ConfigurationError, match="ENFORCE_HTTPS_CLIENT_CA"):
        app.test_client().get("/", base_url=HTTPS)


def test_endpoint_added_after_init_app_needs_a_certificate() -> None:
    app = late_app(ENFORCE_HTTPS_CLIENT_CA=str(session_ca_path()))
    client = app.test_client()
    with rejections(app) as calls:
        refused = client.get("/late", base_url=HTTPS)
    assert "client certificate" in REST.refusal_text(refused)
    assert "no client certificate" in only_rejection(app, calls)
    served = client.get("/late", **direct(pem("client")))
    assert served.status_code == 200
    assert served.json == {"cn": "partner-client"}


def test_a_ca_without_tls_client_cert_endpoints_is_fine() -> None:
    app = Flask("plain")
    app.config.update(TESTING=True, ENFORCE_HTTPS_CLIENT_CA=str(session_ca_path()))

    @app.get("/")
    @mtls.rest("tls")
    def home() -> dict[str, t.Any]:
        return {"cn": presented_name()}

    EnforceHTTPS(app)
    response = app.test_client().get("/", **direct(pem("client")))
    assert response.json == {"cn": "-"}


def _bad_ca_files() -> list[t.Any]:
    return [
        pytest.param(lambda d: d / "missing.pem", "cannot read", id="missing-file"),
        pytest.param(lambda d: d, "cannot read", id="a-directory"),
        pytest.param(
            lambda d: write(d / "notes.txt", b"not a certificate\n"),
            "no PEM certificate",
            id="not-pem",
        ),
        pytest.param(lambda d: write(d / "empty.pem", b""), "no PEM", id="empty"),
        pytest.param(
            lambda d: write(d / "key.pem", issued("client").key_pem()),
            "no PEM certificate",
            id="a-private-key",
        ),
        pytest.param(
            lambda d: write(
                d / "der.crt",
                session_ca().cert.public_bytes(serialization.Encoding.DER),
            ),
            "no PEM certificate",
            id="der-not-pem",
        ),
    ]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "problem"), _bad_ca_files())
def test_bad_ca_file_is_a_configuration_error(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(ConfigurationError) as excinfo:
        create_app(ENFORCE_HTTPS_CLIENT_CA=str(path))
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert "ENFORCE_HTTPS_CLIENT_CA" in str(excinfo.value)
    assert problem in str(excinfo.value)
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bad Header", id="space"),
        pytest.param("X-Cert:", id="colon"),
        pytest.param("X-Cert\n", id="newline"),
        pytest.param("X-C\u00e9rt", id="non-ascii"),
        pytest.param(42, id="not-a-string"),
    ],
)
def test_bad_header_name_is_a_configuration_error(header: t.Any) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        create_app(ENFORCE_HTTPS_CLIENT_CERT_HEADER=header)
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CERT_HEADER"
    assert "ENFORCE_HTTPS_CLIENT_CERT_HEADER" in str(excinfo.value)


def test_bad_header_name_fails_without_tls_client_cert_endpoints() -> None:
    """The header name is checked even when nothing needs certificates."""
    app = Flask("plain")
    app.config.update(TESTING=True, ENFORCE_HTTPS_CLIENT_CERT_HEADER="Bad Header")
    with pytest.raises(ConfigurationError, match="ENFORCE_HTTPS_CLIENT_CERT_HEADER"):
        EnforceHTTPS(app)


def test_missing_client_ca_message_agrees_in_number() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_app(ENFORCE_HTTPS_CLIENT_CA=None)
    assert "'partner' requires tls-client-cert" in str(info.value)
