"""The demo's certificates, made on first start with ``cryptography``.

Two local certificate authorities, one for the server and one for the
partner's client certificate, are generated into the instance folder, never
committed (``*.pem`` and ``example_app/instance/`` are git-ignored):

==================  ====================================================
``ca.pem``          the local CA that issued the server certificate;
                    clients trust it (``curl --cacert``)
``server.pem``      the server certificate: ``localhost``, ``127.0.0.1``
                    and ``::1`` in its subject alternative names
``server-key.pem``  its private key
``client-ca.pem``   the CA that issues client certificates to partners
                    (``ENFORCE_HTTPS_CLIENT_CA``)
``partner.pem``     the partner's client certificate (``curl --cert``)
``partner-key.pem`` its private key (``curl --key``)
==================  ====================================================

The CAs' private keys are thrown away once the leaves are issued: the
demo never issues another certificate with them. Everything is made again
when a file is missing, unreadable or a leaf expires within 30 days.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The common name of the partner's client certificate, which the partner
#: endpoint answers with.
PARTNER_NAME = "acme-logistics"
#: The server certificate covers these names and addresses.
SERVER_DNS = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")
#: Leaves last 397 days, the most browsers accept; CAs ten years.
LEAF_DAYS = 397
CA_DAYS = 3650
#: Everything is made again when a leaf expires sooner than this.
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class Files:
    """Where the demo's certificates and keys live.

    :param ca: The local CA that issued the server certificate.
    :param server_cert: The server certificate.
    :param server_key: Its private key.
    :param client_ca: The CA that issues partners' client certificates.
    :param partner_cert: The partner's client certificate.
    :param partner_key: Its private key.
    """

    ca: Path
    server_cert: Path
    server_key: Path
    client_ca: Path
    partner_cert: Path
    partner_key: Path

    @classmethod
    def in_folder(cls, folder: Path) -> Files:
        """Return the file names in ``folder``.

        :param folder: The instance folder.
        """
        return cls(
            ca=folder / "ca.pem",
            server_cert=folder / "server.pem",
            server_key=folder / "server-key.pem",
            client_ca=folder / "client-ca.pem",
            partner_cert=folder / "partner.pem",
            partner_key=folder / "partner-key.pem",
        )

    def paths(self) -> list[Path]:
        """Return every path, in field order."""
        return [getattr(self, f.name) for f in fields(self)]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class _Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _ca(common_name: str, now: datetime.datetime) -> _Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False
        )
        .sign(key, hashes.SHA256())
    )
    return _Issued(cert, key)


def _leaf(
    issuer: _Issued,
    common_name: str,
    usage: x509.ObjectIdentifier,
    names: list[x509.GeneralName],
    now: datetime.datetime,
) -> _Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            False,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
    return _Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    # A temporary file renamed over the target: readers see all or nothing.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def generate(files: Files, now: datetime.datetime | None = None) -> None:
    """Make both CAs, the server certificate and the partner's, and write
    them to ``files`` (private keys readable by their owner only).

    :param files: Where to write them; the folder must exist.
    :param now: The moment the certificates start from (a day before it).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    server_names: list[x509.GeneralName] = [x509.DNSName(d) for d in SERVER_DNS]
    server_names += [x509.IPAddress(ipaddress.ip_address(i)) for i in SERVER_IPS]
    ca = _ca("flask-enforce-https demo CA", now)
    server = _leaf(ca, "localhost", ExtendedKeyUsageOID.SERVER_AUTH, server_names, now)
    client_ca = _ca("flask-enforce-https demo client CA", now)
    # Client certificates usually carry no subject alternative name.
    partner = _leaf(client_ca, PARTNER_NAME, ExtendedKeyUsageOID.CLIENT_AUTH, [], now)
    _write(files.ca, _cert_pem(ca.cert), 0o644)
    _write(files.server_cert, _cert_pem(server.cert), 0o644)
    _write(files.server_key, _key_pem(server.key), 0o600)
    _write(files.client_ca, _cert_pem(client_ca.cert), 0o644)
    _write(files.partner_cert, _cert_pem(partner.cert), 0o644)
    _write(files.partner_key, _key_pem(partner.key), 0o600)


def _usable(files: Files, now: datetime.datetime) -> bool:
    if not all(path.is_file() for path in files.paths()):
        return False
    try:
        leaves = [
            x509.load_pem_x509_certificate(path.read_bytes())
            for path in (files.server_cert, files.partner_cert)
        ]
    except (OSError, ValueError):
        return False
    return all(
        cert.not_valid_before_utc <= now < cert.not_valid_after_utc - RENEW_BEFORE
        for cert in leaves
    )


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    # The demo and a `flask https` command may start together: one of them
    # makes the files, the other waits and then finds them.
    with (folder / ".pki.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure(folder: Path) -> tuple[Files, bool]:
    """Return the certificate files in ``folder``, making them when needed.

    :param folder: The instance folder; it must exist.
    :return: The files, and whether they were made now.
    """
    files = Files.in_folder(folder)
    now = datetime.datetime.now(datetime.timezone.utc)
    with _locked(folder):
        if _usable(files, now):
            return files, False
        generate(files, now)
        return files, True
