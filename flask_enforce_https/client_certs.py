"""Client certificates (mutual TLS) for endpoints at ``tls-client-cert``.

The certificate comes from the WSGI server (``SSL_CLIENT_CERT``, as Apache's
mod_ssl/mod_wsgi and werkzeug's server set it) or, only for requests from a
trusted proxy, from the header named by ``ENFORCE_HTTPS_CLIENT_CERT_HEADER``
(URL-encoded PEM, as nginx's ``$ssl_client_escaped_cert``). It must chain
to ``ENFORCE_HTTPS_CLIENT_CA``, be within its validity period and, when it
has an extended key usage, allow client authentication.
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
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from flask import request

from .errors import ConfigurationError

if t.TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Where a verified client certificate is kept for the request.
CERTIFICATE_KEY = "flask_enforce_https.client_certificate"
#: A header value longer than this is refused unparsed (a chain of a few
#: certificates, URL-encoded, is well under it).
MAX_HEADER = 16384
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
            roots = x509.load_pem_x509_certificates(path.read_bytes())
        except OSError as e:
            raise ConfigurationError(key, f"cannot read {path}: {e.strerror}") from None
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
        :raises ClientCertificateError: The header is too long.
        """
        pem = environ.get("SSL_CLIENT_CERT")
        if pem:
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
        return unquote(value)

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
