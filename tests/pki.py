"""Certificates made at test time with ``cryptography``: never committed.

``test_ca()`` is one CA for the whole session (its PEM written to a
temporary folder); :class:`CA` makes more, and issues leaves of every shape
the tests need: expired, not yet valid, wildcard, IP, CN-only, weak keys.
cryptography no longer signs with SHA-1, so :func:`sha1_certificate` asks
the ``openssl`` command.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import os
import shutil
import subprocess
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey: t.TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def new_key(kind: str = "ec") -> PrivateKey:
    """Return a new key: ``"ec"`` (P-256), or ``"rsa1024"``/``"rsa2048"``."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class Issued:
    """A certificate, its key and the chain above it (without the root)."""

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    def cert_pem(self, with_chain: bool = True) -> bytes:
        """The certificate in PEM, then its intermediates."""
        certs = (self.cert, *self.chain) if with_chain else (self.cert,)
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)

    def key_pem(self, password: bytes | None = None) -> bytes:
        """The private key in PEM, encrypted when ``password`` is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def write(
        self, folder: Path, name: str, with_chain: bool = True
    ) -> tuple[Path, Path]:
        """Write ``name.crt`` (with the chain) and ``name.key`` into ``folder``."""
        cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
        cert_path.write_bytes(self.cert_pem(with_chain))
        key_path.write_bytes(self.key_pem())
        return cert_path, key_path


class CA:
    """A certificate authority that issues test certificates.

    :param name: Its common name.
    :param parent: The CA that signs this one (an intermediate), or ``None``
        for a self-signed root.
    """

    def __init__(self, name: str = "Test Root CA", parent: CA | None = None) -> None:
        self.key = new_key()
        self.name = _name(name)
        self.parent = parent
        signer = parent or self
        builder = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(signer.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - 30 * DAY)
            .not_valid_after(NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(
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
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    signer.key.public_key()
                ),
                False,
            )
        )
        self.cert = builder.sign(signer.key, hashes.SHA256())
        self.chain: tuple[x509.Certificate, ...] = (
            () if parent is None else (self.cert, *parent.chain)
        )

    def pem(self) -> bytes:
        """This CA's own certificate in PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        common_name: str = "localhost",
        dns: t.Sequence[str] = ("localhost",),
        ips: t.Sequence[str] = ("127.0.0.1",),
        *,
        usage: str | None = "server",
        starts: datetime.timedelta = -DAY,
        lasts: datetime.timedelta = 90 * DAY,
        key: str = "ec",
        san: bool = True,
    ) -> Issued:
        """Issue a leaf certificate.

        :param usage: ``"server"``, ``"client"``, ``"both"`` or ``None`` for
            no extended key usage.
        :param starts: Its start, relative to now.
        :param lasts: How long it is valid from its start.
        :param key: The key type, as for :func:`new_key`.
        :param san: ``False`` for a certificate with a CN and no SAN.
        """
        leaf_key = new_key(key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW + starts)
            .not_valid_after(NOW + starts + lasts)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()
                ),
                False,
            )
        )
        usages = {
            "server": [ExtendedKeyUsageOID.SERVER_AUTH],
            "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
            "both": [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        }
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages[usage]), False)
        if san and (dns or ips):
            names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
            names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(cert, leaf_key, self.chain)


@functools.cache
def _folder() -> Path:
    # Kept for the whole session; removed when the interpreter exits.
    return Path(_TEMPORARY.name)


_TEMPORARY = tempfile.TemporaryDirectory(prefix="flask-enforce-https-pki-")


@functools.cache
def test_ca() -> CA:
    """The session's client-certificate CA."""
    return CA("Test Client CA")


@functools.cache
def test_ca_path() -> Path:
    """The PEM file of :func:`test_ca`, for ``ENFORCE_HTTPS_CLIENT_CA``."""
    path = _folder() / "client-ca.pem"
    path.write_bytes(test_ca().pem())
    return path


def sha1_certificate(folder: Path) -> Path:
    """Write a self-signed, SHA-1-signed certificate for localhost with
    ``openssl`` and return its path. Skips loudly without ``openssl``, and
    fails when ``CI`` is set."""
    openssl = shutil.which("openssl")
    if openssl is None:
        message = "openssl is not installed: cannot make a SHA-1 certificate"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cert, key = folder / "sha1.crt", folder / "sha1.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-sha1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-days",
            "30",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert
