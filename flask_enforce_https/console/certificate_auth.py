"""The console authorizer for client certificates: the certificate the
extension verified, never a header."""

from __future__ import annotations

import typing as t

from cryptography import x509
from flask import Request

from ..client_certs import CERTIFICATE_KEY
from ..errors import ConfigurationError
from .roles import Role

#: A user: a subject, or an (issuer, subject) pair, as RFC 4514 strings.
_Entry = str | tuple[str, str]


class ClientCertificateAuth:
    """The authorizer :func:`client_certificate_auth` returns: call it with
    the request.

    :ivar level: ``"tls-client-cert"``: the console declares its pages at
        this level, the only one at which the extension verifies a client
        certificate.
    """

    level = "tls-client-cert"

    def __init__(
        self,
        subjects: dict[str, Role],
        pairs: dict[tuple[str, str], Role],
    ) -> None:
        self._subjects = subjects
        self._pairs = pairs

    def __call__(self, request: Request) -> Role | None:
        """Return the role of the request's verified client certificate, or
        ``None`` when there is none or it names no user.

        :param request: The request.
        """
        cert = request.environ.get(CERTIFICATE_KEY)
        if not isinstance(cert, x509.Certificate):
            # Left there only by the extension, once verified: a page below
            # tls-client-cert has none, whatever the client sent.
            return None
        subject = cert.subject.rfc4514_string()
        role = self._pairs.get((cert.issuer.rfc4514_string(), subject))
        return role or self._subjects.get(subject)

    def __repr__(self) -> str:
        count = len(self._subjects) + len(self._pairs)
        return f"<ClientCertificateAuth users={count}>"


def client_certificate_auth(
    editors: t.Iterable[_Entry], readers: t.Iterable[_Entry] = ()
) -> ClientCertificateAuth:
    """Make an authorizer that recognises users by their client certificate.

    Each user is the certificate's full subject, as an RFC 4514 string
    (``"CN=alice,O=Example"``, as :meth:`cryptography.x509.Name.rfc4514_string`
    and ``openssl x509 -noout -subject -nameopt RFC2253`` write it: the
    attribute names in capitals, no space after the commas), never a common
    name alone; values are compared exactly, case included. A subject alone
    matches a certificate from any CA of ``ENFORCE_HTTPS_CLIENT_CA``, and
    any of them can issue any subject: when the bundle holds CAs you do not
    trust equally, give ``(issuer, subject)`` pairs instead.

    .. code-block:: python

        console = Console(authorize=client_certificate_auth(
            editors=[("CN=Ops CA,O=Example", "CN=alice,O=Example")],
            readers=["CN=bob,O=Example"],
        ))

    The certificate is the one the extension verified (see
    :func:`~flask_enforce_https.client_certificate`); a header or
    ``SSL_CLIENT_CERT`` is never read here.

    :param editors: Subjects, or (issuer, subject) pairs, of editors.
    :param readers: The same, for users who may only look.
    :raises ConfigurationError: An entry is not an RFC 4514 name, a user is
        in both, or there is no user at all.
    """
    subjects: dict[str, Role] = {}
    pairs: dict[tuple[str, str], Role] = {}
    given: tuple[tuple[str, Role, t.Iterable[_Entry]], ...] = (
        ("editors", "editor", editors),
        ("readers", "reader", readers),
    )
    for argument, role, entries in given:
        if isinstance(entries, str):
            raise ConfigurationError(
                f"client_certificate_auth {argument}",
                "is one string: give a list of subjects",
            )
        for entry in entries:
            key = f"client_certificate_auth {argument} entry {entry!r}"
            if isinstance(entry, tuple) and len(entry) == 2:
                pair = (_name(key, entry[0]), _name(key, entry[1]))
                table: dict[t.Any, Role] = pairs
                found: t.Any = pair
            else:
                table, found = subjects, _name(key, entry)
            if found in table:
                raise ConfigurationError(key, "is named twice: give each user one role")
            table[found] = role
    if not subjects and not pairs:
        raise ConfigurationError(
            "client_certificate_auth",
            "has no user: name at least one editor or reader",
        )
    return ClientCertificateAuth(subjects, pairs)


def _name(key: str, value: object) -> str:
    """``value`` written as the certificate's name will be."""
    problem = (
        "is not an RFC 4514 name such as 'CN=alice,O=Example' (no space"
        " after the commas; a common name alone is not enough)"
    )
    if not isinstance(value, str):
        raise ConfigurationError(key, problem)
    try:
        name = x509.Name.from_rfc4514_string(value)
    except ValueError:
        raise ConfigurationError(key, problem) from None
    if not len(name):
        raise ConfigurationError(key, problem)
    return name.rfc4514_string()
