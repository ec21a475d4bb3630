"""Public keys of certificates, where cryptography deprecates a kind.

cryptography 45 deprecates DSA: loading a DSA public key warns, and a later
release will not load one at all. Certificates still carry DSA keys, and
the checks must recognise them to refuse them, so the kind is read from
the certificate's algorithm identifier, without loading the key.
"""

from __future__ import annotations

import warnings

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import PublicKeyAlgorithmOID


def is_dsa(cert: x509.Certificate) -> bool:
    """Whether ``cert``'s key is a DSA key (its key is not loaded)."""
    return bool(cert.public_key_algorithm_oid == PublicKeyAlgorithmOID.DSA)


def public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """``cert``'s public key, without cryptography's DSA deprecation
    warning. For the checks of commands and start-up only: silencing a
    warning is not safe while other threads serve requests.

    :param cert: The certificate.
    """
    if not is_dsa(cert):
        return cert.public_key()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return cert.public_key()


def sized_key_bits(cert: x509.Certificate) -> int | None:
    """The size of ``cert``'s RSA or DSA key, whose strength it measures;
    ``None`` for other kinds (elliptic curves are judged by their curve).
    For commands and start-up, like :func:`public_key`."""
    key = public_key(cert)
    if isinstance(key, rsa.RSAPublicKey) or is_dsa(cert):
        return int(key.key_size)  # type: ignore[union-attr]
    return None
