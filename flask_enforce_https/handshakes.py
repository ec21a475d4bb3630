"""TLS handshakes with a running server, for ``flask https check --url``.

A load balancer may send each connection to another server of its pool, and
the pool may not serve one certificate. So the check makes several
handshakes, each on a new connection and without session resumption, and
keeps what each one got: servers that disagree show as several leaves, or as
a chain that verifies in some handshakes only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field

from cryptography import x509

#: How many handshakes ``--url`` makes by default: a pool of up to eight
#: servers that answer in turn shows every one, and two servers chosen at
#: random both show in more than 99 % of checks.
HANDSHAKES = 8
#: The fewest: one reads the leaf whatever it is, one verifies the chain.
MIN_HANDSHAKES = 2
#: The most, so that a check stays quick.
MAX_HANDSHAKES = 100


@dataclass
class Handshakes:
    """What the handshakes with one server address got.

    :param leaves: Each distinct leaf certificate, in DER, in the order first
        seen, with how many handshakes got it.
    :param verifying: How many handshakes verified the chain.
    :param refused: The verification errors of those whose chain did not
        verify.
    :param failed: The other errors of handshakes after the first.
    """

    leaves: dict[bytes, int] = field(default_factory=dict)
    verifying: int = 0
    refused: list[ssl.SSLCertVerificationError] = field(default_factory=list)
    failed: list[OSError] = field(default_factory=list)


class PlainHTTPError(OSError):
    """The port answers plain HTTP, not TLS."""


def _speaks_http(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` answers an HTTP request in plain text."""
    answer = b""
    try:
        name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
        request = f"HEAD / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode("ascii")
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(request)
            while len(answer) < len(b"HTTP/"):
                part = sock.recv(5 - len(answer))
                if not part:
                    break
                answer += part
    except (OSError, UnicodeError):
        return False
    return answer == b"HTTP/"


def handshakes(
    host: str, port: int, count: int, timeout: float, verify_with: str
) -> Handshakes:
    """Make ``count`` handshakes with ``host:port``.

    They alternate: the first, and every other one after it, reads the leaf
    without verifying anything, so that a leaf that does not verify is still
    checked; the others verify the chain with OpenSSL and read the leaf when
    it verifies.

    :param host: The host name or IP address; a name is sent as SNI.
    :param port: The port.
    :param count: How many handshakes, at least :data:`MIN_HANDSHAKES`.
    :param timeout: Seconds to wait for each.
    :param verify_with: A PEM file of roots, or ``""`` for OpenSSL's.
    :raises PlainHTTPError: The first handshake failed, and the port
        answers plain HTTP.
    :raises OSError: The first handshake failed: nothing to check.
    """
    if count < MIN_HANDSHAKES:
        raise ValueError(f"expected at least {MIN_HANDSHAKES} handshakes, got {count}")
    seen = Handshakes()
    for number in range(count):
        verify = number % 2 == 1
        seen.verifying += verify
        try:
            der = _fetch(host, port, timeout, verify_with if verify else None)
        except ssl.SSLCertVerificationError as e:
            seen.refused.append(e)
            continue
        except OSError as e:  # ssl.SSLError included
            if number == 0:
                if isinstance(e, ssl.SSLError) and _speaks_http(host, port, timeout):
                    raise PlainHTTPError(str(e)) from e
                raise
            seen.failed.append(e)
            continue
        seen.leaves[der] = seen.leaves.get(der, 0) + 1
    return seen


def _fetch(host: str, port: int, timeout: float, verify_with: str | None) -> bytes:
    """Handshake with ``host:port``; verify the chain unless ``verify_with``
    is ``None`` ("" for the system's roots). Returns the leaf in DER."""
    if verify_with is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=verify_with or None)
        context.check_hostname = False  # host coverage is checked separately
    try:
        ipaddress.ip_address(host)
        server_hostname = None
    except ValueError:
        server_hostname = host
    # A new context each time: no session to resume, a full handshake.
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=server_hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server sent no certificate")
    return der


def describe(der: bytes) -> str:
    """Name a leaf in a few words: its subject, the end of its validity and
    the start of its SHA-256 fingerprint.

    :param der: The certificate, in DER.
    """
    fingerprint = hashlib.sha256(der).hexdigest()[:16]
    try:
        leaf = x509.load_der_x509_certificate(der)
        subject = leaf.subject.rfc4514_string() or "no subject"
        until = leaf.not_valid_after_utc.date().isoformat()
    except ValueError:  # checked, and reported, on its own
        return f"SHA-256 {fingerprint}..."
    return f"{subject}, until {until}, SHA-256 {fingerprint}..."
