"""``flask https check``: the certificate, the hosts and the settings,
checked together before a deploy.
"""

from __future__ import annotations

import datetime
import hashlib
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from flask import Flask

from . import certificates as certs
from . import findings as ids
from .findings import Finding
from .handshakes import HANDSHAKES, Handshakes, PlainHTTPError, describe
from .handshakes import handshakes as shake

# OpenSSL's X509_V_ERR_CERT_NOT_YET_VALID and X509_V_ERR_CERT_HAS_EXPIRED.
_VALIDITY_ERRORS = (9, 10)


def app_hosts(app: Flask) -> list[str]:
    """Return the hosts the app redirects to or accepts, without ports.

    ``ENFORCE_HTTPS_HOST``, ``SERVER_NAME`` and each ``TRUSTED_HOSTS``
    entry; an entry starting with ``.`` stands for its domain and any
    subdomain, checked as ``example.com`` and ``subdomain.example.com``.

    :param app: The application.
    """
    hosts = []
    for value in (app.config.get("ENFORCE_HTTPS_HOST"), app.config.get("SERVER_NAME")):
        if value:
            hosts.append(_without_port(str(value)))
    for entry in app.config.get("TRUSTED_HOSTS") or ():
        entry = _without_port(str(entry))
        if entry.startswith("."):
            hosts += [entry[1:], f"subdomain{entry}"]
        else:
            hosts.append(entry)
    return hosts


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host if host.count(":") > 1 else host.partition(":")[0]


def certificate_findings(
    certificate: Path,
    key: Path | None,
    bundle: Path | None,
    hosts: t.Sequence[str],
    now: datetime.datetime,
    warning_days: int,
) -> list[Finding]:
    """Check a certificate file (leaf and chain), its key and its hosts.

    :param certificate: PEM file, leaf first.
    :param key: PEM private key file, or ``None`` to skip the match.
    :param bundle: PEM roots for the chain, or ``None`` for the system's.
    :param hosts: Host names or IP addresses clients will use.
    :param now: A timezone-aware moment to check validity at.
    :param warning_days: Warn when the leaf expires sooner than this.
    """
    where = str(certificate)
    try:
        chain = certs.load_chain(certificate)
    except certs.CertificateFileError as e:
        return [
            Finding(
                ids.CERT_UNREADABLE,
                "error",
                str(e),
                "Point ENFORCE_HTTPS_CERTIFICATE (or --certificate) at the"
                " PEM file with the leaf certificate first.",
            )
        ]
    found = certs.check_processable(chain, where)
    if found:
        return found
    try:
        return _file_findings(chain, key, bundle, hosts, now, warning_days, where)
    except certs.UNPROCESSABLE as e:  # what check_processable did not foresee
        return [certs.unsupported(where, e)]


def _file_findings(
    chain: list[x509.Certificate],
    key: Path | None,
    bundle: Path | None,
    hosts: t.Sequence[str],
    now: datetime.datetime,
    warning_days: int,
    where: str,
) -> list[Finding]:
    found = _leaf_findings(chain, hosts, now, warning_days, where)
    if key is not None:
        try:
            private_key = certs.load_key(key)
        except certs.CertificateFileError as e:
            found.append(
                Finding(
                    ids.KEY_UNREADABLE,
                    "error",
                    str(e),
                    "Point ENFORCE_HTTPS_CERTIFICATE_KEY (or --key) at"
                    " the PEM private key.",
                )
            )
        else:
            if private_key is None:
                found.append(
                    Finding(
                        ids.KEY_ENCRYPTED,
                        "info",
                        f"{key}: encrypted; the key match was not checked",
                        "Check it where the password is known.",
                    )
                )
            else:
                found += certs.check_key(chain[0], private_key, where, str(key))
    found += _chain_findings(chain, bundle, now, where)
    return found


def _leaf_findings(
    chain: list[x509.Certificate],
    hosts: t.Sequence[str],
    now: datetime.datetime,
    warning_days: int,
    where: str,
) -> list[Finding]:
    found = certs.check_validity(chain[0], now, warning_days, where)
    names, addresses = certs.san_names(chain[0])
    if hosts or not (names or addresses):
        found += certs.check_hosts(chain[0], hosts, where)
    else:
        found.append(
            Finding(
                ids.CERT_NO_HOSTS,
                "info",
                f"{where}: no host names to check it against",
                "Pass --hostname, or set ENFORCE_HTTPS_HOST,"
                " SERVER_NAME or TRUSTED_HOSTS.",
            )
        )
    return found + certs.check_strength(chain, where)


def _chain_findings(
    chain: list[x509.Certificate],
    bundle: Path | None,
    now: datetime.datetime,
    where: str,
) -> list[Finding]:
    try:
        roots, roots_where = certs.load_trust_store(bundle)
    except certs.CertificateFileError as e:
        return [
            Finding(
                ids.CA_BUNDLE_UNREADABLE,
                "error",
                str(e),
                "Point ENFORCE_HTTPS_CA_BUNDLE at a PEM file of trusted roots.",
            )
        ]
    return certs.check_chain(chain, roots, roots_where, now, where)


def url_findings(
    url: str,
    bundle: Path | None,
    hosts: t.Sequence[str],
    now: datetime.datetime,
    warning_days: int,
    timeout: float = 10,
    handshakes: int = HANDSHAKES,
) -> list[Finding]:
    """Check the certificate a live server presents at ``url``.

    ``handshakes`` handshakes are made, each on a new connection, and
    compared: servers behind one address (a load balancer's pool) that
    present different leaves get ``url-mixed-certificates``, and each leaf
    is checked on its own. They alternate between reading the leaf
    unverified and verifying the chain, starting with the former.

    :param url: ``https://host[:port]``; its host is checked too.
    :param bundle: PEM roots the server's chain must verify to, or ``None``.
    :param hosts: More host names to check the certificate against.
    :param now: A timezone-aware moment to check validity at.
    :param warning_days: Warn when the leaf expires sooner than this.
    :param timeout: Seconds to wait for the server, at each handshake.
    :param handshakes: How many handshakes to make, at least 2.
    """
    host: str | None = None
    try:
        parts = urlsplit(url)
        if parts.scheme == "https":
            host, port = parts.hostname, parts.port or 443
    except ValueError:  # a bad port, an unclosed IPv6 bracket
        host = None
    if not host:
        return [
            Finding(
                ids.URL_INVALID,
                "error",
                f"{url}: not an https:// URL",
                "Give the URL as https://host[:port].",
            )
        ]
    try:
        seen = shake(host, port, handshakes, timeout, str(bundle) if bundle else "")
    except PlainHTTPError as e:
        return [
            Finding(
                ids.URL_UNREACHABLE,
                "error",
                f"{url}: port {port} answers plain HTTP, not HTTPS: there is no"
                f" TLS certificate to check there (the TLS handshake got: {e})",
                "Point --url at the port that serves HTTPS (443 unless the"
                " server says otherwise), or set up TLS on this one.",
            )
        ]
    except OSError as e:
        return [
            Finding(
                ids.URL_UNREACHABLE,
                "error",
                f"{url}: {e}",
                "Check that the server is running and reachable.",
            )
        ]
    found = _failed_handshakes(url, seen, handshakes)
    leaves = list(seen.leaves)
    if len(leaves) > 1:
        found.append(_mixed(url, seen, handshakes))
    for number, der in enumerate(leaves, 1):
        where = f"{url} certificate" + (f" #{number}" if len(leaves) > 1 else "")
        found.append(presented(der, where))
        found += _live_leaf_findings(der, [host, *hosts], now, warning_days, where)
    return found + _refused_chains(url, seen, found)


def _printable(text: str) -> str:
    # The server chose these names: no control character reaches the terminal.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def presented(der: bytes, where: str) -> Finding:
    """Return the ``url-certificate`` finding: what the server presented.

    :param der: The leaf certificate, in DER.
    :param where: The URL and which certificate of it.
    """
    try:
        leaf = x509.load_der_x509_certificate(der)
        names, addresses = certs.san_names(leaf)
        subject = leaf.subject.rfc4514_string() or "empty"
        issuer = leaf.issuer.rfc4514_string() or "empty"
        until = f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    except certs.UNPROCESSABLE:  # reported, with the reason, on its own
        described = describe(der)
    else:
        san = [f"DNS:{_printable(n)}" for n in names]
        san += [f"IP:{a}" for a in addresses]
        described = (
            f"subject {subject}; SAN {', '.join(san) or 'none'}; issuer {issuer};"
            f" expires {until}; SHA-256 {hashlib.sha256(der).hexdigest()}"
        )
    return Finding(
        ids.URL_CERTIFICATE,
        "info",
        f"{where}: {described}",
        "Check that this is the certificate you meant to deploy.",
    )


def _live_leaf_findings(
    der: bytes,
    hosts: t.Sequence[str],
    now: datetime.datetime,
    warning_days: int,
    where: str,
) -> list[Finding]:
    try:
        leaf = x509.load_der_x509_certificate(der)
        return certs.check_processable([leaf], where) or _leaf_findings(
            [leaf], hosts, now, warning_days, where
        )
    except certs.UNPROCESSABLE as e:
        return [certs.unsupported(where, e)]


def _failed_handshakes(url: str, seen: Handshakes, made: int) -> list[Finding]:
    if not seen.failed:
        return []
    return [
        Finding(
            ids.URL_UNREACHABLE,
            "error",
            f"{url}: {len(seen.failed)} of {made} handshakes failed after the"
            f" first succeeded: {seen.failed[0]}",
            "Check that every server behind this address is running and serves TLS.",
        )
    ]


def _mixed(url: str, seen: Handshakes, made: int) -> Finding:
    described = "; ".join(
        f"#{number} {describe(der)}, in {times} of {made}"
        for number, (der, times) in enumerate(seen.leaves.items(), 1)
    )
    return Finding(
        ids.URL_MIXED_CERTIFICATES,
        "error",
        f"{url}: {len(seen.leaves)} different certificates in {made}"
        f" handshakes: {described}",
        "Install the same certificate and chain on every server behind"
        " this address (a renewal still being rolled out? check again when"
        " it is done); each one is checked below.",
    )


def _refused_chains(url: str, seen: Handshakes, found: list[Finding]) -> list[Finding]:
    dated = any(f.id in (ids.CERT_EXPIRED, ids.CERT_NOT_YET_VALID) for f in found)
    messages: dict[str, int] = {}
    for error in seen.refused:
        if error.verify_code in _VALIDITY_ERRORS and dated:
            continue  # the leaf's dates, reported above
        message = str(error.verify_message)
        messages[message] = messages.get(message, 0) + 1
    result = []
    for message, times in messages.items():
        # Some handshakes verified: the servers behind the address differ.
        some = f" in {times} of {seen.verifying} handshakes"
        result.append(
            Finding(
                ids.CERT_CHAIN,
                "error",
                f"{url} certificate: does not verify"
                f"{'' if times == seen.verifying else some}: {message}",
                "Serve the intermediate certificates after the leaf,"
                " or set ENFORCE_HTTPS_CA_BUNDLE to the CA that"
                " issued it.",
            )
        )
    return result
