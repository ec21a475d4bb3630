"""Reading certificate, key and CA bundle files.

They are read as settings files are (see :mod:`flask_enforce_https.files`):
a regular file only, opened without blocking and size-limited, so that a
FIFO cannot hang a process at start-up nor ``/dev/zero`` exhaust its memory.
"""

from __future__ import annotations

import contextlib
import ssl
import typing as t
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from .files import FileError, read_regular_file

#: A certificate or key file larger than this is refused unread: a leaf and
#: its intermediates are a few kilobytes.
MAX_SIZE = 1024 * 1024
#: A CA bundle larger than this is refused unread: a system trust store of
#: some 150 roots is about 220 kB.
MAX_BUNDLE_SIZE = 4 * 1024 * 1024


class CertificateFileError(Exception):
    """A certificate or key file cannot be used; the message says why."""


def read_pem_file(path: Path, limit: int = MAX_SIZE) -> bytes:
    """Read a PEM file whole, refusing anything but a regular file.

    :param path: The file.
    :param limit: The largest size accepted, in bytes.
    :raises FileError: It cannot be read, is not a regular file (a FIFO,
        a device, a directory), or is larger than ``limit``.
    """
    return read_regular_file(path, limit)[1]


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_pem_file(path, limit)
    except FileError as e:
        raise CertificateFileError(str(e)) from None


def load_chain(path: Path, limit: int = MAX_SIZE) -> list[x509.Certificate]:
    """Load the PEM certificates in ``path``, leaf first.

    :param path: A PEM file with the leaf and its intermediates.
    :param limit: The largest size accepted, in bytes.
    :raises CertificateFileError: Unreadable, not a regular file, too
        large, or no certificate in it.
    """
    data = _read(path, limit)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise CertificateFileError(f"{path}: not a PEM certificate") from None


def load_key(path: Path) -> t.Any | None:
    """Load a PEM private key; ``None`` when it is encrypted.

    :param path: The key file.
    :raises CertificateFileError: Unreadable, not a regular file, too
        large, or not a private key.
    """
    data = _read(path, MAX_SIZE)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return None  # encrypted: needs a password we do not have
    except UnsupportedAlgorithm as e:
        raise CertificateFileError(
            f"{path}: a private key cryptography cannot use: {e}"
        ) from None
    except ValueError:
        raise CertificateFileError(f"{path}: not a PEM private key") from None


def load_trust_store(path: Path | None) -> tuple[list[x509.Certificate], str]:
    """Load trusted roots from ``path``, or from the system's trust store.

    :param path: A PEM bundle, or ``None`` for the system's.
    :return: The roots and where they came from.
    :raises CertificateFileError: The bundle cannot be used.
    """
    with warnings.catch_warnings():
        # System bundles hold old roots that newer cryptography frowns on
        # (negative serial numbers); they are the administrator's to judge.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        if path is not None:
            return load_chain(path, MAX_BUNDLE_SIZE), str(path)
        defaults = ssl.get_default_verify_paths()
        if defaults.cafile:
            return load_chain(Path(defaults.cafile), MAX_BUNDLE_SIZE), defaults.cafile
        if defaults.capath:
            roots = []
            for entry in sorted(Path(defaults.capath).iterdir()):
                if entry.is_file():
                    with contextlib.suppress(CertificateFileError):
                        roots += load_chain(entry)
            if roots:
                return roots, defaults.capath
    raise CertificateFileError(
        "no system trust store found; set ENFORCE_HTTPS_CA_BUNDLE"
    )
