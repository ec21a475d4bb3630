"""``flask https check``: the certificate, the hosts and the settings,
checked together before a deploy.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from flask import Flask

from . import certificates as certs
from . import findings as ids
from .findings import Finding

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
) -> list[Finding]:
    """Check the certificate a live server presents at ``url``.

    :param url: ``https://host[:port]``; its host is checked too.
    :param bundle: PEM roots the server's chain must verify to, or ``None``.
    :param hosts: More host names to check the certificate against.
    :param now: A timezone-aware moment to check validity at.
    :param warning_days: Warn when the leaf expires sooner than this.
    :param timeout: Seconds to wait for the server.
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
    where = f"{url} certificate"
    try:
        der = _fetch(host, port, timeout, None)
    except (OSError, ssl.SSLError) as e:
        return [
            Finding(
                ids.URL_UNREACHABLE,
                "error",
                f"{url}: {e}",
                "Check that the server is running and reachable.",
            )
        ]
    try:
        leaf = x509.load_der_x509_certificate(der)
        unsupported = certs.check_processable([leaf], where)
        if unsupported:
            return unsupported
        found = _leaf_findings([leaf], [host, *hosts], now, warning_days, where)
    except certs.UNPROCESSABLE as e:
        return [certs.unsupported(where, e)]
    try:
        _fetch(host, port, timeout, str(bundle) if bundle else "")
    except ssl.SSLCertVerificationError as e:
        if e.verify_code in _VALIDITY_ERRORS and any(
            f.id in (ids.CERT_EXPIRED, ids.CERT_NOT_YET_VALID) for f in found
        ):
            return found  # the leaf's dates, reported above
        found.append(
            Finding(
                ids.CERT_CHAIN,
                "error",
                f"{where}: does not verify: {e.verify_message}",
                "Serve the intermediate certificates after the leaf,"
                " or set ENFORCE_HTTPS_CA_BUNDLE to the CA that"
                " issued it.",
            )
        )
    except (OSError, ssl.SSLError):
        pass  # reachable a moment ago; the first result stands
    return found


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
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=server_hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the server sent no certificate")
    return der
