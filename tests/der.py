"""Certificates cryptography parses but cannot fully process, made at test
time by editing a good certificate's DER and signing it again.

cryptography's builder refuses to make them, and openssl's configuration
merges a repeated extension, so the TBS certificate is edited byte for byte
with the little DER reader and writer below.
"""

from __future__ import annotations

import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pki import CA, Issued

# The OIDs, as DER content bytes, of P-256 and of prime192v2, a curve of the
# same encoded length that cryptography does not support.
P256 = bytes.fromhex("2a8648ce3d030107")
PRIME192V2 = bytes.fromhex("2a8648ce3d030102")


def _read(data: bytes, at: int) -> tuple[int, bytes, int]:
    """Read one TLV at ``at``: its tag, its content and where it ends."""
    tag, length, start = data[at], data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    return tag, data[start : start + length], start + length


def _write(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _elements(content: bytes) -> list[tuple[int, bytes, bytes]]:
    """The TLVs in ``content``: tag, content and the whole encoding."""
    found, at = [], 0
    while at < len(content):
        tag, inner, end = _read(content, at)
        found.append((tag, inner, content[at:end]))
        at = end
    return found


def resigned(issued: Issued, ca: CA, edit: t.Callable[[bytes], bytes]) -> bytes:
    """Return the PEM of ``issued`` with its TBS certificate edited by
    ``edit``, signed again by ``ca`` (an ECDSA CA)."""
    tbs = edit(issued.cert.tbs_certificate_bytes)
    _, whole, _ = _read(issued.cert.public_bytes(serialization.Encoding.DER), 0)
    algorithm = _elements(whole)[1][2]
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    signature = ca.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = _write(0x30, tbs + algorithm + _write(0x03, b"\0" + signature))
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def duplicate_last_extension(tbs: bytes) -> bytes:
    """A TBS certificate with its last extension twice."""
    _, content, _ = _read(tbs, 0)
    parts = []
    for tag, inner, raw in _elements(content):
        if tag == 0xA3:  # [3] extensions
            _, extensions, _ = _read(inner, 0)
            items = [item for _, _, item in _elements(extensions)]
            raw = _write(0xA3, _write(0x30, b"".join([*items, items[-1]])))
        parts.append(raw)
    return _write(0x30, b"".join(parts))


def unsupported_curve(tbs: bytes) -> bytes:
    """A TBS certificate whose P-256 key claims a curve cryptography lacks."""
    assert tbs.count(P256) == 1
    return tbs.replace(P256, PRIME192V2)
