"""Whether a server certificate covers a host, asked of cryptography's own
verifier.

The leaf is verified as its own trust anchor, at a moment inside its
validity and with extension policies that put no constraint on it but a
subject alternative name, so that only its names decide. Before any name is
tried, the same verification without a name tells whether the verifier
refuses the certificate itself (an unknown critical extension, an empty
issuer): that is :class:`CertificateProfileError`, never "does not cover".

On top of the verifier's rules, a wildcard never covers a name directly
under a public suffix of the ICANN section of the Public Suffix List
(``*.co.uk``, ``*.com``), as browsers refuse it; the list is the one the
``publicsuffixlist`` package ships, read from disk, never fetched.
"""

from __future__ import annotations

import functools
import ipaddress
import typing as t

from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    Subject,
    VerificationError,
)
from publicsuffixlist import PublicSuffixList


class CertificateProfileError(Exception):
    """cryptography's verifier refuses the certificate whatever the host: the
    message is its reason."""


def san_names(cert: x509.Certificate) -> tuple[list[str], list[t.Any]]:
    """Return the DNS names and IP addresses in a certificate's SAN.

    :param cert: The certificate.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return [], []
    return (
        san.value.get_values_for_type(x509.DNSName),
        san.value.get_values_for_type(x509.IPAddress),
    )


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # The ICANN section only: the private one lists platforms (github.io,
    # herokuapp.com) that serve their users' sites under their own wildcard
    # certificate, which browsers accept.
    return PublicSuffixList(only_icann=True)


def _names_only(cert: x509.Certificate) -> PolicyBuilder:
    """A policy builder that trusts ``cert`` itself, inside its validity,
    with no extension constraint but the SAN a server verifier needs."""
    before, after = cert.not_valid_before_utc, cert.not_valid_after_utc
    ee_policy = ExtensionPolicy.permit_all().require_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    # Never applied (the leaf is the anchor), but cryptography wants a CA
    # policy that requires basicConstraints.
    ca_policy = ExtensionPolicy.webpki_defaults_ca()
    return (
        PolicyBuilder()
        .store(Store([cert]))
        .time(before + (after - before) / 2)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
    )


def profile_error(cert: x509.Certificate) -> str | None:
    """Return why cryptography's verifier refuses ``cert`` whatever the host,
    or ``None``.

    It is verified as :func:`covers` does, without a name (as a client
    certificate, whose extended key usage the policy does not check).

    :param cert: A leaf certificate with a subject alternative name.
    """
    try:
        _names_only(cert).build_client_verifier().verify(cert, [])
    except VerificationError as e:
        return str(e)
    return None


def _subject(host: str) -> Subject | None:
    """The verifier's subject for ``host``, or ``None`` for a host that
    cannot be a DNS name or IP address."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    # A fully qualified name's final dot names the same host.
    name = host[:-1] if host.endswith(".") else host
    try:
        return x509.DNSName(name.encode("idna").decode("ascii").lower())
    except (UnicodeError, ValueError):
        return None


def covers(cert: x509.Certificate, host: str) -> bool:
    """Whether ``cert`` is valid for ``host`` (a name or IP address).

    Only the subject alternative names count; a wildcard is the whole
    left-most label, covers one label, and never a name directly under a
    public suffix. When the verifier refuses the certificate itself, no
    host can be said to be covered or not: that raises
    ``flask_enforce_https.certificates.CertificateProfileError``,
    with the verifier's reason.

    :param cert: The leaf certificate.
    :param host: A host name (IDNA allowed) or IP address, no port.
    """
    names, addresses = san_names(cert)
    if not names and not addresses:
        return False
    reason = profile_error(cert)
    if reason is not None:
        raise CertificateProfileError(reason)
    subject = _subject(host)
    if subject is None:
        return False
    try:
        _names_only(cert).build_server_verifier(subject).verify(cert, [])
    except (VerificationError, ValueError):
        return False  # the profile verified above: the name does not match
    if isinstance(subject, x509.IPAddress):
        return True
    name = subject.value
    parent = name.partition(".")[2]
    if parent and not _public_suffixes().is_public(parent):
        return True
    # Only a name in the SAN as it is may cover it, not "*.<suffix>".
    return name in (n.lower() for n in names)
