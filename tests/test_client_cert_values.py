"""What a client-certificate value may hold: one certificate, then only its
CA certificates; and no weak key.

A header that came more than once reaches the application joined with a
comma (werkzeug's test client joins with ", ", its server and gunicorn with
","). A proxy that adds the header rather than replacing it (HAProxy's
``add-header``, Apache's ``RequestHeader add``) passes the client's own copy
of a partner's public certificate next to the one it verified: such a value
is refused, never resolved in favour of its first part. So is a value with a
second end-entity certificate, however it is run together.
"""

from __future__ import annotations

import functools
import typing as t
import warnings
from urllib.parse import quote

import pytest
from conftest import send_raw, serving
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pki import DAY, NOW
from pki import test_ca as session_ca
from test_client_certs import (
    BEHIND_PROXY,
    HEADER,
    REST,
    create_mtls_app,
    direct,
    issued,
    only_rejection,
    pem,
    rejections,
    via_proxy,
)

# -- certificates made here: keys pki does not make ----------------------------


def _sign(
    subject: str,
    public_key: t.Any,
    issuer: x509.Name,
    issuer_key: t.Any,
    *,
    ca: bool,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 90 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), False
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> str:
    return "".join(
        c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs
    )


@functools.cache
def dsa_leaf() -> str:
    """A client certificate with a 2048-bit DSA key, from the trusted CA."""
    ca = session_ca()
    # cryptography >= 45 deprecates DSA; the check must still refuse it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dsa

        key = dsa.generate_private_key(key_size=2048)
    return _pem(_sign("partner-dsa", key.public_key(), ca.name, ca.key, ca=False))


@functools.cache
def weak_intermediate_leaf() -> str:
    """A client certificate (EC key) under an intermediate with a 1024-bit
    RSA key, under the trusted CA; the intermediate follows the leaf."""
    ca = session_ca()
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    middle = _sign("Weak Intermediate", weak.public_key(), ca.name, ca.key, ca=True)
    leaf_key = issued("client").key
    leaf = _sign(
        "partner-under-weak", leaf_key.public_key(), middle.subject, weak, ca=False
    )
    return _pem(leaf, middle)


def weak_rsa_leaf() -> str:
    return (
        session_ca()
        .issue("partner-rsa1024", usage="client", key="rsa1024")
        .cert_pem()
        .decode("ascii")
    )


# -- a header that came more than once ---------------------------------------------


def _encoded(shape: str) -> str:
    return quote(pem(shape))


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(["client", "both"], id="client-copy-first"),
        pytest.param(["both", "client"], id="proxy-value-first"),
        pytest.param(["client", "client"], id="same-certificate-twice"),
        pytest.param(["intermediate", "client"], id="with-chain-first"),
    ],
)
def test_repeated_header_is_refused(values: list[str]) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    headers = [(HEADER, _encoded(shape)) for shape in values]
    headers.append(("X-Forwarded-Proto", "https"))
    with rejections(app) as calls:
        response = app.test_client().get(
            "/rest", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        )
    assert "came more than once" in REST.refusal_text(response)
    assert "came more than once" in only_rejection(app, calls)


@pytest.mark.parametrize(
    "join",
    [
        pytest.param(",", id="comma-as-gunicorn-and-werkzeug-serving"),
        pytest.param(", ", id="comma-space-as-mod-wsgi"),
    ],
)
@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(quote, id="url-encoded"),
        pytest.param(lambda p: p.replace("\n", " ").strip(), id="folded-raw"),
    ],
)
def test_comma_joined_header_value_is_refused(
    join: str, encode: t.Callable[[str], str]
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    value = join.join([encode(pem("client")), encode(pem("both"))])
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **via_proxy(value))
    assert "came more than once" in REST.refusal_text(response)
    assert "came more than once" in only_rejection(app, calls)


def test_encoded_comma_is_refused_too() -> None:
    app = create_mtls_app(BEHIND_PROXY)
    value = quote(pem("client")) + "%2C" + quote(pem("both"))
    response = app.test_client().get("/rest", **via_proxy(value))
    assert "came more than once" in REST.refusal_text(response)


def test_repeated_header_is_refused_by_a_real_server() -> None:
    """werkzeug's server joins the two lines; the single line is served."""
    app = create_mtls_app(BEHIND_PROXY)
    once = f"{HEADER}: {_encoded('client')}\r\n".encode("ascii")
    twice = once + f"{HEADER}: {_encoded('both')}\r\n".encode("ascii")
    with serving(app) as port:
        for lines, status in ((once, 200), (twice, 403)):
            head = (
                b"GET /rest HTTP/1.1\r\nHost: localhost\r\n"
                b"X-Forwarded-Proto: https\r\n" + lines + b"\r\n"
            )
            assert send_raw(port, head).status == status


def test_ssl_client_cert_with_a_comma_is_refused() -> None:
    app = create_mtls_app()
    value = pem("client") + ", " + pem("both")
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **direct(value))
    assert "more than one value" in REST.refusal_text(response)
    assert "SSL_CLIENT_CERT" in only_rejection(app, calls)


# -- more than one end-entity certificate ----------------------------------------


def _two_leaves() -> list[t.Any]:
    chain = pem("intermediate")
    return [
        pytest.param(pem("client") + pem("both"), id="two-leaves"),
        pytest.param(pem("client") + chain, id="leaf-then-another-with-chain"),
        pytest.param(chain + pem("client"), id="chain-then-another-leaf"),
        pytest.param(pem("other-ca") + pem("client"), id="untrusted-first"),
    ]


@pytest.mark.parametrize("value", _two_leaves())
@pytest.mark.parametrize("source", ["environ", "header"])
def test_more_than_one_end_entity_certificate_is_refused(
    value: str, source: str
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    options = direct(value) if source == "environ" else via_proxy(quote(value))
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **options)
    assert "more than one end-entity" in REST.refusal_text(response)
    assert "more than one end-entity" in only_rejection(app, calls)


@pytest.mark.parametrize("source", ["environ", "header"])
def test_leaf_with_its_intermediates_is_still_served(source: str) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    value = pem("intermediate")
    assert value.count("BEGIN CERTIFICATE") == 2
    options = direct(value) if source == "environ" else via_proxy(quote(value))
    response = app.test_client().get("/rest", **options)
    assert REST.served_name(response) == "partner-inter"


# -- weak keys ---------------------------------------------------------------------


WEAK = [
    pytest.param(weak_rsa_leaf, "1024-bit RSA key", id="rsa-1024"),
    pytest.param(dsa_leaf, "DSA key", id="dsa"),
    pytest.param(
        weak_intermediate_leaf,
        "certificate 2 of the client certificate's chain has a 1024-bit RSA key",
        id="rsa-1024-intermediate",
    ),
]


@pytest.mark.parametrize(("make", "reason"), WEAK)
@pytest.mark.parametrize("source", ["environ", "header"])
def test_weak_key_is_refused_with_the_reason(
    make: t.Callable[[], str], reason: str, source: str
) -> None:
    app = create_mtls_app(BEHIND_PROXY)
    value = make()
    options = direct(value) if source == "environ" else via_proxy(quote(value))
    with rejections(app) as calls:
        response = app.test_client().get("/rest", **options)
    assert reason in REST.refusal_text(response)
    assert reason in only_rejection(app, calls)


def test_rsa_2048_is_served() -> None:
    response = create_mtls_app().test_client().get("/rest", **direct(pem("rsa")))
    assert REST.served_name(response) == "partner-rsa"
