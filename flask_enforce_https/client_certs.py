"""Client certificates (mutual TLS) for endpoints at ``tls-client-cert``.

The certificate comes from the WSGI server (``SSL_CLIENT_CERT``, as Apache's
mod_ssl/mod_wsgi and werkzeug's server set it) or, only for requests from a
trusted proxy, from the header named by ``ENFORCE_HTTPS_CLIENT_CERT_HEADER``
(URL-encoded PEM, as nginx's ``$ssl_client_escaped_cert``). It must chain
to ``ENFORCE_HTTPS_CLIENT_CA``, be within its validity period, have a key
that is not weak and, when it has an extended key usage, allow client
authentication.

A value is one certificate, then only CA certificates (its intermediates).
Servers join a header that came more than once with a comma, which no PEM
holds: such a value is refused, never resolved in favour of one of its
parts, since a proxy that adds the header rather than replacing it would
otherwise let a client's copy of another's certificate win.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
import typing as t
from collections import OrderedDict
from pathlib import Path
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from flask import request

from .certificate_files import MAX_BUNDLE_SIZE, read_pem_file
from .certificates import UNPROCESSABLE
from .errors import ConfigurationError
from .files import FileError
from .keys import is_dsa

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Where a verified client certificate is kept for the request.
CERTIFICATE_KEY = "flask_enforce_https.client_certificate"
#: A header value longer than this is refused unparsed (a chain of a few
#: certificates, URL-encoded, is well under it).
MAX_HEADER = 16384
#: An RSA key shorter than this is refused (so is any DSA key).
MIN_RSA_BITS = 2048
_CACHE_SIZE = 512
_CACHE_SECONDS = 300
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL
)


class ClientCertificateError(Exception):
    """A client certificate is missing or does not verify; says why."""


def client_certificate() -> x509.Certificate | None:
    """Return the verified client certificate of the current request.

    ``None`` outside an endpoint at ``tls-client-cert``, since only those
    verify one.

    The certificate only proves that one of the CAs of
    ``ENFORCE_HTTPS_CLIENT_CA`` issued it. Tell clients apart by its
    ``issuer`` and ``subject`` together (or by a subject alternative name
    URI that the CA vouches for), never by the common name alone: any CA of
    the bundle can issue a certificate with any common name.

    .. code-block:: python

        cert = client_certificate()
        key = cert.issuer.rfc4514_string(), cert.subject.rfc4514_string()
        partner = PARTNERS.get(key)  # None: a certificate of no partner
    """
    cert = request.environ.get(CERTIFICATE_KEY)
    return cert if isinstance(cert, x509.Certificate) else None


def _normalise(pem: str) -> str:
    # Some proxies fold the PEM onto one line; rebuild it from the base64.
    blocks = []
    for body in _PEM.findall(pem):
        data = "".join(body.split())
        lines = [data[i : i + 64] for i in range(0, len(data), 64)]
        blocks.append(
            "\n".join(
                ["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----"]
            )
        )
    return "\n".join(blocks) + "\n"


class ClientCAs:
    """Verifies client certificates against the configured CAs.

    Results are cached by certificate text (a bounded LRU), and a cached
    certificate is still checked against the clock on every use.

    :param path: The PEM bundle of the CAs that issue client certificates.
    :param header: The request header a trusted proxy puts the client's
        certificate in, or ``None``.
    :raises ConfigurationError: The bundle holds no usable certificate.
    """

    def __init__(self, path: Path, header: str | None) -> None:
        key = "ENFORCE_HTTPS_CLIENT_CA"
        try:
            # A FIFO would hang the process, /dev/zero exhaust its memory.
            roots = x509.load_pem_x509_certificates(
                read_pem_file(path, MAX_BUNDLE_SIZE)
            )
        except FileError as e:
            raise ConfigurationError(key, str(e)) from None
        except ValueError:
            raise ConfigurationError(key, f"{path} holds no PEM certificate") from None
        self.path = path
        self.header_key = None
        if header:
            self.header_key = "HTTP_" + header.upper().replace("-", "_")
        self._store = Store(roots)
        # Client certificates often have no SAN: allow its absence.
        self._ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        )
        self._ca_policy = ExtensionPolicy.webpki_defaults_ca()
        self._cache: OrderedDict[str, tuple[x509.Certificate | None, str, float]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def presented(self, environ: WSGIEnvironment, trusted: bool) -> str | None:
        """Return the PEM text of the certificate the client presented.

        :param environ: The WSGI environ.
        :param trusted: Whether the request comes from a trusted proxy, the
            only source whose header counts.
        :raises ClientCertificateError: The header is too long, or either
            source holds more than one value (a comma).
        """
        pem = environ.get("SSL_CLIENT_CERT")
        if pem:
            if "," in str(pem):
                raise ClientCertificateError(
                    "SSL_CLIENT_CERT holds more than one value (a comma)"
                )
            return str(pem)
        if not trusted or self.header_key is None:
            return None
        value = environ.get(self.header_key)
        if not value:
            return None
        if len(value) > MAX_HEADER:
            raise ClientCertificateError(
                f"the client certificate header is over {MAX_HEADER} bytes"
            )
        # Checked decoded, so that "%2C" cannot hide a comma either.
        pem = unquote(value)
        if "," in pem:
            raise ClientCertificateError(
                "the client certificate header came more than once (its value"
                " holds a comma); only one certificate is accepted"
            )
        return pem

    def verify(self, pem: str, now: datetime.datetime) -> x509.Certificate:
        """Return the client certificate in ``pem`` once it verifies.

        :param pem: The certificate, then any intermediates, in PEM.
        :param now: A timezone-aware moment to check validity at.
        :raises ClientCertificateError: It does not parse or verify.
        """
        clock = time.monotonic()
        with self._lock:
            cached = self._cache.get(pem)
            if cached is not None and cached[2] > clock:
                self._cache.move_to_end(pem)
            else:
                cached = None
        if cached is None:
            cert, reason = self._verify(pem, now)
            # Re-verified now and then: a CA or the clock may have moved on.
            cached = cert, reason, clock + _CACHE_SECONDS
            with self._lock:
                self._cache[pem] = cached
                self._cache.move_to_end(pem)
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        cert, reason, _ = cached
        if cert is None:
            raise ClientCertificateError(reason)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise ClientCertificateError(
                "the client certificate is valid from"
                f" {cert.not_valid_before_utc:%Y-%m-%d %H:%M} to"
                f" {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
            )
        return cert

    def _verify(
        self, pem: str, now: datetime.datetime
    ) -> tuple[x509.Certificate | None, str]:
        try:
            chain = x509.load_pem_x509_certificates(_normalise(pem).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return None, "the client certificate is not a PEM certificate"
        problem = _shape_problem(chain)
        if problem:
            return None, problem
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .extension_policies(ca_policy=self._ca_policy, ee_policy=self._ee_policy)
            .build_client_verifier()
        )
        try:
            verifier.verify(chain[0], chain[1:])
        except VerificationError as e:
            # cryptography appends the certificate's repr: not for clients.
            why = str(e).split(" (encountered processing", 1)[0]
            return None, f"the client certificate does not verify: {why}"
        return chain[0], ""


def _shape_problem(chain: list[x509.Certificate]) -> str:
    # Before the verifier, so that the client is told this reason, not one
    # of the verifier's.
    for index, cert in enumerate(chain):
        which = (
            "the client certificate"
            if index == 0
            else f"certificate {index + 1} of the client certificate's chain"
        )
        if is_dsa(cert):
            # Read from the certificate: loading the key would warn (see .keys).
            return f"{which} has a DSA key, which is refused; use RSA or ECDSA"
        try:
            key = cert.public_key()
            constraints: x509.BasicConstraints | None = (
                cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            )
        except x509.ExtensionNotFound:
            constraints = None
        except UNPROCESSABLE:
            return f"{which} cannot be processed"
        if index and not (constraints and constraints.ca):
            # A leaf may only be followed by its CAs: anything else is two
            # values run together, and the first would win.
            return (
                "the client certificate holds more than one end-entity"
                " certificate; only its CA certificates may follow it"
            )
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            return (
                f"{which} has a {key.key_size}-bit RSA key; at least"
                f" {MIN_RSA_BITS} bits are required"
            )
    return ""
