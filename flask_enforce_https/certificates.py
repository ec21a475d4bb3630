"""Server certificate checks: validity, host names, key, chain, strength.

The files are read by :mod:`flask_enforce_https.certificate_files`.

Host names are matched by :mod:`flask_enforce_https.host_names`, with
cryptography's verifier. Chains are verified with
:mod:`cryptography.x509.verification` too, without a host name: the names
are checked on their own.
"""

from __future__ import annotations

import datetime
import typing as t

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from . import findings as ids

# The files are read in a module of their own; their names stay importable
# from here, where `flask https check` looks for them.
from .certificate_files import CertificateFileError as CertificateFileError
from .certificate_files import load_chain as load_chain
from .certificate_files import load_key as load_key
from .certificate_files import load_trust_store as load_trust_store
from .findings import Finding
from .host_names import CertificateProfileError as CertificateProfileError
from .host_names import covers as covers
from .host_names import profile_error as profile_error
from .host_names import san_names as san_names
from .keys import public_key, sized_key_bits

_WEAK_RSA_BITS = 2048


#: What cryptography raises for a certificate it parsed but cannot process:
#: an unsupported key or signature algorithm, a duplicated or malformed
#: extension. Its parsing is lazy, so these come from the accessors.
UNPROCESSABLE = (
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    ValueError,
)


def _days(delta: datetime.timedelta) -> str:
    days = delta.days
    return f"{days} day{'s' if days != 1 else ''}"


def unsupported(where: str, error: Exception) -> Finding:
    """Return the finding for a certificate cryptography cannot process.

    :param where: The file or URL, and which certificate of it.
    :param error: What cryptography raised.
    """
    reason = str(error) or type(error).__name__
    return Finding(
        ids.CERT_UNSUPPORTED,
        "error",
        f"{where}: cryptography cannot process it: {reason}",
        "Reissue it with an RSA (2048 bits or more) or ECDSA P-256/P-384 key,"
        " signed with SHA-256, and each extension once.",
    )


def check_processable(chain: list[x509.Certificate], where: str) -> list[Finding]:
    """Find certificates that parse but that the other checks cannot read.

    Reads what they read (extensions, public key, signature hash) up front,
    so that such a certificate is one finding that names it, never a
    traceback.
    """
    for index, cert in enumerate(chain):
        try:
            _ = cert.extensions, public_key(cert), cert.signature_hash_algorithm
        except UNPROCESSABLE as e:
            which = where if index == 0 else f"{where} (chain certificate {index})"
            return [unsupported(which, e)]
    return []


def check_validity(
    cert: x509.Certificate, now: datetime.datetime, warning_days: int, where: str
) -> list[Finding]:
    """Find an expired, not yet valid, or soon expiring certificate."""
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    if after <= now:
        return [
            Finding(
                ids.CERT_EXPIRED,
                "error",
                f"{where}: expired on {after:%Y-%m-%d} ({_days(now - after)} ago)",
                "Renew the certificate and reload the server.",
            )
        ]
    if before > now:
        return [
            Finding(
                ids.CERT_NOT_YET_VALID,
                "error",
                f"{where}: not valid until {before:%Y-%m-%d %H:%M} UTC",
                "Check the server's clock, or wait for the start date.",
            )
        ]
    if after - now < datetime.timedelta(days=warning_days):
        return [
            Finding(
                ids.CERT_EXPIRING,
                "warning",
                f"{where}: expires on {after:%Y-%m-%d}, in {_days(after - now)}",
                "Renew it before then (or automate renewal).",
            )
        ]
    return []


def check_hosts(
    cert: x509.Certificate, hosts: t.Iterable[str], where: str
) -> list[Finding]:
    """Find hosts the certificate does not cover, and CN-only certificates."""
    names, addresses = san_names(cert)
    if not names and not addresses:
        common = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        cn = str(common[0].value) if common else "none"
        return [
            Finding(
                ids.CERT_CN_ONLY,
                "error",
                f"{where}: no subject alternative names (CN {cn}); clients"
                " ignore the CN and reject it for every host",
                "Reissue it with the host names as DNS (or IP) SAN entries.",
            )
        ]
    reason = profile_error(cert)
    if reason is not None:
        # Whatever the host, clients refuse it: not a question of names.
        return [
            Finding(
                ids.CERT_PROFILE,
                "error",
                f"{where}: refused as a server certificate whatever the host: {reason}",
                "Reissue it as a plain server certificate: a non-empty issuer,"
                " no critical extension clients do not know, serial and dates"
                " encoded as RFC 5280 says.",
            )
        ]
    san = ", ".join([*names, *map(str, addresses)])
    return [
        Finding(
            ids.CERT_HOST_MISMATCH,
            "error",
            f"{where}: does not cover {host} (it covers {san})",
            "Reissue it with this host in its SAN, or stop sending clients"
            " to this host (ENFORCE_HTTPS_HOST, SERVER_NAME, TRUSTED_HOSTS).",
        )
        for host in dict.fromkeys(hosts)
        if not covers(cert, host)
    ]


def check_key(
    cert: x509.Certificate, key: t.Any, where: str, key_where: str
) -> list[Finding]:
    """Find a private key that does not belong to the certificate."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if public_key(cert).public_bytes(*spki) == key.public_key().public_bytes(*spki):
        return []
    return [
        Finding(
            ids.CERT_KEY_MISMATCH,
            "error",
            f"{key_where}: is not the private key of {where}",
            "Install the key the certificate was issued for.",
        )
    ]


def check_strength(chain: list[x509.Certificate], where: str) -> list[Finding]:
    """Find RSA/DSA keys under 2048 bits and SHA-1 signatures."""
    found = []
    for index, cert in enumerate(chain):
        which = where if index == 0 else f"{where} (chain certificate {index})"
        bits = sized_key_bits(cert)
        if bits is not None and bits < _WEAK_RSA_BITS:
            found.append(
                Finding(
                    ids.CERT_WEAK_KEY,
                    "warning",
                    f"{which}: {bits}-bit key",
                    "Use an RSA key of 2048 bits or more, or ECDSA.",
                )
            )
        if isinstance(cert.signature_hash_algorithm, hashes.SHA1):
            found.append(
                Finding(
                    ids.CERT_SHA1,
                    "warning",
                    f"{which}: signed with SHA-1, which clients reject",
                    "Reissue it signed with SHA-256.",
                )
            )
    return found


def _server_auth(
    policy: Policy, cert: x509.Certificate, usage: x509.ExtendedKeyUsage | None
) -> None:
    # What a server verifier asks of the leaf's extended key usage.
    if usage is not None and ExtendedKeyUsageOID.SERVER_AUTH not in usage:
        raise ValueError("the leaf's extended key usage does not allow a server")


def _issues_server_auth(
    policy: Policy, cert: x509.Certificate, usage: x509.ExtendedKeyUsage | None
) -> None:
    # What a server verifier asks of a CA's extended key usage.
    allowed = (
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    )
    if usage is not None and not any(oid in usage for oid in allowed):
        raise ValueError(
            f"{cert.subject.rfc4514_string()}: its extended key usage does not"
            " allow servers"
        )


def check_chain(
    chain: list[x509.Certificate],
    roots: list[x509.Certificate],
    roots_where: str,
    now: datetime.datetime,
    where: str,
) -> list[Finding]:
    """Find a chain that does not verify to ``roots``.

    Verified with the web PKI rules of a server certificate, but without a
    host name, which :func:`check_hosts` checks; ``now`` must be
    timezone-aware. An expired leaf is verified at a moment inside its
    validity, so that this finding is about the chain only.
    """
    leaf = chain[0]
    names, addresses = san_names(leaf)
    if not names and not addresses:
        return []  # reported as cert-cn-only
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        now = (
            leaf.not_valid_before_utc
            + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2
        )
    # A client verifier checks no name; the server's extended key usage
    # rules replace the client's.
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, _server_auth
    )
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, _issues_server_auth
    )
    try:
        verifier = (
            PolicyBuilder()
            .store(Store(roots))
            .time(now)
            .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
            .build_client_verifier()
        )
        verifier.verify(leaf, chain[1:])
    except (VerificationError, ValueError) as e:
        return [
            Finding(
                ids.CERT_CHAIN,
                "error",
                f"{where}: does not chain to a root in {roots_where}: {e}",
                "Put the intermediate certificates after the leaf in the"
                " file, or set ENFORCE_HTTPS_CA_BUNDLE to the CA that"
                " issued it.",
            )
        ]
    return []
