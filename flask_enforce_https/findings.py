"""Findings of ``flask https check``: one thing found, with a stable id.

The ids of the certificate and ``--url`` findings are the constants below;
the deploy checks keep theirs next to the check that reports them (see
:mod:`flask_enforce_https.deploy`). Every id is documented, with its fix, in
the findings table of the certificates page.
"""

from __future__ import annotations

import typing as t
from dataclasses import asdict, dataclass

Severity = t.Literal["error", "warning", "info"]

CERT_UNREADABLE = "cert-unreadable"
CERT_UNSUPPORTED = "cert-unsupported"
CERT_EXPIRED = "cert-expired"
CERT_NOT_YET_VALID = "cert-not-yet-valid"
CERT_EXPIRING = "cert-expiring"
CERT_HOST_MISMATCH = "cert-host-mismatch"
CERT_CN_ONLY = "cert-cn-only"
CERT_PROFILE = "cert-profile"
CERT_KEY_MISMATCH = "cert-key-mismatch"
KEY_UNREADABLE = "key-unreadable"
KEY_ENCRYPTED = "key-encrypted"
CERT_CHAIN = "cert-chain"
CA_BUNDLE_UNREADABLE = "ca-bundle-unreadable"
CERT_WEAK_KEY = "cert-weak-key"
CERT_SHA1 = "cert-sha1"
CERT_NO_HOSTS = "cert-no-hosts"
CERT_NONE = "cert-none"
URL_INVALID = "url-invalid"
URL_UNREACHABLE = "url-unreachable"
URL_MIXED_CERTIFICATES = "url-mixed-certificates"
URL_CERTIFICATE = "url-certificate"

#: The ids of the findings about certificates, keys and ``--url``.
CERTIFICATE_IDS = frozenset(
    {
        CERT_UNREADABLE,
        CERT_UNSUPPORTED,
        CERT_EXPIRED,
        CERT_NOT_YET_VALID,
        CERT_EXPIRING,
        CERT_HOST_MISMATCH,
        CERT_CN_ONLY,
        CERT_PROFILE,
        CERT_KEY_MISMATCH,
        KEY_UNREADABLE,
        KEY_ENCRYPTED,
        CERT_CHAIN,
        CA_BUNDLE_UNREADABLE,
        CERT_WEAK_KEY,
        CERT_SHA1,
        CERT_NO_HOSTS,
        CERT_NONE,
        URL_INVALID,
        URL_UNREACHABLE,
        URL_MIXED_CERTIFICATES,
        URL_CERTIFICATE,
    }
)


@dataclass(frozen=True)
class Finding:
    """One thing ``flask https check`` found.

    :param id: A stable identifier, documented with its fix.
    :param severity: ``"error"`` (exit 1), ``"warning"`` or ``"info"``.
    :param message: What was found, naming the file, host or key.
    :param hint: What to do about it.
    """

    id: str
    severity: Severity
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        """Return the finding as JSON-ready data."""
        return asdict(self)
