"""Server certificate checks: ``certificates.py`` and ``checks.py``.

Every certificate is made at test time by :mod:`pki` and written to
``tmp_path``. Host names are matched by cryptography's verifier as RFC 6125 says:
against the subject alternative names only, a wildcard being the whole
left-most label and matching exactly one label, never over an ICANN public
suffix; a certificate the verifier refuses whatever the host is
``cert-profile``, never a host mismatch. Chains are verified
to the given bundle, inside the leaf's validity.
"""

from __future__ import annotations

import datetime
import socket
import typing as t
from pathlib import Path

import der
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from flask import Flask
from pki import CA, DAY, Issued, sha1_certificate

from flask_enforce_https import certificates
from flask_enforce_https.checks import app_hosts, certificate_findings, url_findings
from flask_enforce_https.findings import Finding

SECOND = datetime.timedelta(seconds=1)
# Expired leaves here start 20 days ago and last 10: pki's CAs are valid from
# 30 days ago, and a chain is verified at a moment inside the leaf's validity.


def now() -> datetime.datetime:
    """The current moment, timezone-aware."""
    return datetime.datetime.now(datetime.timezone.utc)


def check(
    certificate: Path,
    key: Path | None = None,
    bundle: Path | None = None,
    hosts: t.Sequence[str] = ("localhost",),
    warning_days: int = 30,
) -> list[Finding]:
    """Run :func:`certificate_findings` now."""
    return certificate_findings(certificate, key, bundle, hosts, now(), warning_days)


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    """Return the findings by id, failing on a repeated id."""
    found = {f.id: f for f in findings}
    assert len(found) == len(findings), findings
    return found


def write_ca(ca: CA, folder: Path, name: str = "ca") -> Path:
    """Write ``ca``'s certificate as a PEM bundle and return its path."""
    path = folder / f"{name}.pem"
    path.write_bytes(ca.pem())
    return path


@pytest.fixture(scope="module")
def ca() -> CA:
    """A root CA for this module's leaves."""
    return CA("Certificates Test Root CA")


@pytest.fixture
def bundle(ca: CA, tmp_path: Path) -> Path:
    """The PEM bundle of :func:`ca`."""
    return write_ca(ca, tmp_path)


# Unreadable files ----------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="missing"),
        pytest.param(b"hello, this is not a certificate\n", id="not-pem"),
        pytest.param("key", id="private-key"),
        pytest.param(b"", id="empty"),
    ],
)
def test_unreadable_certificate(
    ca: CA, bundle: Path, tmp_path: Path, content: bytes | str | None
) -> None:
    path = tmp_path / "server.crt"
    if content == "key":
        path.write_bytes(ca.issue().key_pem())
    elif isinstance(content, bytes):
        path.write_bytes(content)
    findings = check(path, bundle=bundle)
    assert [(f.id, f.severity) for f in findings] == [("cert-unreadable", "error")]
    assert str(path) in findings[0].message


def test_directory_as_certificate_is_unreadable(tmp_path: Path) -> None:
    findings = check(tmp_path)
    assert [(f.id, f.severity) for f in findings] == [("cert-unreadable", "error")]
    assert str(tmp_path) in findings[0].message


# Validity ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "lasts", "finding_id"),
    [
        pytest.param(-20 * DAY, 10 * DAY, "cert-expired", id="expired"),
        pytest.param(
            -10 * DAY, 10 * DAY - 5 * SECOND, "cert-expired", id="just-expired"
        ),
        pytest.param(10 * DAY, 90 * DAY, "cert-not-yet-valid", id="not-yet-valid"),
        pytest.param(
            5 * SECOND + DAY, 90 * DAY, "cert-not-yet-valid", id="valid-tomorrow"
        ),
    ],
)
def test_outside_validity_is_an_error(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    starts: datetime.timedelta,
    lasts: datetime.timedelta,
    finding_id: str,
) -> None:
    cert, key = ca.issue(starts=starts, lasts=lasts).write(tmp_path, "server")
    found = by_id(check(cert, key, bundle))
    assert set(found) == {finding_id}
    assert found[finding_id].severity == "error"
    assert str(cert) in found[finding_id].message


def test_expired_message_names_the_date(ca: CA, tmp_path: Path) -> None:
    issued = ca.issue(starts=-100 * DAY, lasts=10 * DAY)
    cert, _ = issued.write(tmp_path, "server")
    found = by_id(check(cert))
    assert (
        f"{issued.cert.not_valid_after_utc:%Y-%m-%d}" in found["cert-expired"].message
    )


@pytest.mark.parametrize(
    ("lasts", "warning_days", "expiring"),
    [
        pytest.param(11 * DAY, 30, True, id="10-days-default-window"),
        pytest.param(11 * DAY, 9, False, id="10-days-window-9"),
        pytest.param(11 * DAY, 5, False, id="10-days-window-5"),
        pytest.param(11 * DAY, 0, False, id="10-days-window-0"),
        pytest.param(61 * DAY, 30, False, id="60-days-default-window"),
        pytest.param(61 * DAY, 90, True, id="60-days-window-90"),
        pytest.param(DAY + 2 * 3600 * SECOND, 30, True, id="hours-left"),
    ],
)
def test_expiring_within_the_warning_window(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    lasts: datetime.timedelta,
    warning_days: int,
    expiring: bool,
) -> None:
    cert, key = ca.issue(lasts=lasts).write(tmp_path, "server")
    findings = check(cert, key, bundle, warning_days=warning_days)
    if expiring:
        assert [(f.id, f.severity) for f in findings] == [("cert-expiring", "warning")]
        assert str(cert) in findings[0].message
    else:
        assert findings == []


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        pytest.param(-SECOND, [], id="exactly-30-days-left"),
        pytest.param(SECOND, ["cert-expiring"], id="just-inside-window"),
        pytest.param(29 * DAY, ["cert-expiring"], id="1-day-left"),
        pytest.param(30 * DAY, ["cert-expired"], id="at-end"),
        pytest.param(31 * DAY, ["cert-expired"], id="after"),
    ],
)
def test_validity_boundaries(
    ca: CA, offset: datetime.timedelta, expected: list[str]
) -> None:
    cert = ca.issue(lasts=365 * DAY).cert
    moment = cert.not_valid_after_utc - 30 * DAY + offset
    findings = certificates.check_validity(cert, moment, 30, "server.crt")
    assert [f.id for f in findings] == expected


def test_not_yet_valid_boundary(ca: CA) -> None:
    cert = ca.issue(starts=10 * DAY).cert
    start = cert.not_valid_before_utc
    before = certificates.check_validity(cert, start - SECOND, 30, "server.crt")
    assert [(f.id, f.severity) for f in before] == [("cert-not-yet-valid", "error")]
    assert certificates.check_validity(cert, start, 30, "server.crt") == []


# Host names ----------------------------------------------------------------


def test_host_not_covered_is_an_error_naming_it(
    ca: CA, bundle: Path, tmp_path: Path
) -> None:
    cert, key = ca.issue(dns=["shop.example.com"], ips=["127.0.0.1"]).write(
        tmp_path, "server"
    )
    hosts = ["shop.example.com", "blog.example.com", "127.0.0.1", "10.0.0.1"]
    findings = check(cert, key, bundle, hosts)
    assert [(f.id, f.severity) for f in findings] == [
        ("cert-host-mismatch", "error"),
        ("cert-host-mismatch", "error"),
    ]
    assert "blog.example.com" in findings[0].message
    assert "10.0.0.1" in findings[1].message
    for finding in findings:
        assert "shop.example.com" in finding.message  # what it covers
        assert str(cert) in finding.message


def test_host_named_twice_is_reported_once(
    ca: CA, bundle: Path, tmp_path: Path
) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    findings = check(cert, key, bundle, ["other.example", "other.example"])
    assert [f.id for f in findings] == ["cert-host-mismatch"]


@pytest.mark.parametrize(
    ("dns", "ips", "host", "expected"),
    [
        pytest.param(["example.com"], [], "example.com", True, id="exact"),
        pytest.param(["example.com"], [], "example.org", False, id="exact-other-name"),
        pytest.param(
            ["example.com"], [], "www.example.com", False, id="exact-not-a-subdomain"
        ),
        pytest.param(
            ["www.example.com"], [], "example.com", False, id="exact-not-the-parent"
        ),
        pytest.param(
            ["example.com"], [], "EXAMPLE.Com", True, id="host-case-insensitive"
        ),
        pytest.param(
            ["Example.COM"], [], "example.com", True, id="san-case-insensitive"
        ),
        pytest.param(["example.com"], [], "example.com.", True, id="host-trailing-dot"),
        # Not a name RFC 5280 allows in a SAN; OpenSSL refuses it too.
        pytest.param(["example.com."], [], "example.com", False, id="san-trailing-dot"),
        pytest.param(
            ["a.example.com", "b.example.com"],
            [],
            "b.example.com",
            True,
            id="second-of-several",
        ),
        pytest.param(
            ["*.example.com"], [], "a.example.com", True, id="wildcard-one-label"
        ),
        pytest.param(
            ["*.example.com"],
            [],
            "SHOP.Example.com",
            True,
            id="wildcard-case-insensitive",
        ),
        pytest.param(
            ["*.example.com"], [], "a.example.com.", True, id="wildcard-trailing-dot"
        ),
        pytest.param(
            ["*.example.com"], [], "example.com", False, id="wildcard-not-bare-parent"
        ),
        pytest.param(
            ["*.example.com"],
            [],
            "a.b.example.com",
            False,
            id="wildcard-not-two-labels",
        ),
        pytest.param(
            ["*.example.com"], [], ".example.com", False, id="wildcard-not-empty-label"
        ),
        pytest.param(
            ["*.example.com"], [], "a.example.org", False, id="wildcard-other-domain"
        ),
        pytest.param(
            ["f*.example.com"],
            [],
            "foo.example.com",
            False,
            id="partial-wildcard-prefix",
        ),
        pytest.param(
            ["*oo.example.com"],
            [],
            "foo.example.com",
            False,
            id="partial-wildcard-suffix",
        ),
        pytest.param(
            ["f*o.example.com"],
            [],
            "foo.example.com",
            False,
            id="partial-wildcard-middle",
        ),
        pytest.param(
            ["www.*.example.com"],
            [],
            "www.shop.example.com",
            False,
            id="wildcard-not-left-most",
        ),
        pytest.param(
            ["*.*.example.com"], [], "a.b.example.com", False, id="two-wildcards"
        ),
        pytest.param(["*"], [], "localhost", False, id="bare-wildcard"),
        pytest.param(["*.com"], [], "example.com", False, id="wildcard-over-com"),
        pytest.param(["*.co.uk"], [], "example.co.uk", False, id="wildcard-over-co-uk"),
        # A private suffix: GitHub Pages serves it with its own wildcard
        # certificate, which browsers accept.
        pytest.param(
            ["*.github.io"],
            [],
            "someone.github.io",
            True,
            id="wildcard-under-github-io",
        ),
        pytest.param(
            ["*.example.co.uk"],
            [],
            "shop.example.co.uk",
            True,
            id="wildcard-under-co-uk",
        ),
        pytest.param([], ["127.0.0.1"], "127.0.0.1", True, id="ipv4"),
        pytest.param([], ["127.0.0.1"], "127.0.0.2", False, id="ipv4-other"),
        pytest.param([], ["::1"], "::1", True, id="ipv6"),
        pytest.param([], ["::1"], "[::1]", True, id="ipv6-brackets"),
        pytest.param([], ["::1"], "0:0:0:0:0:0:0:1", True, id="ipv6-long-form"),
        pytest.param([], ["::1"], "127.0.0.1", False, id="ipv6-san-not-ipv4"),
        pytest.param(["127.0.0.1"], [], "127.0.0.1", False, id="ip-not-dns-san"),
        pytest.param(["::1"], [], "::1", False, id="ipv6-not-dns-san"),
        pytest.param([], ["127.0.0.1"], "localhost", False, id="dns-not-ip-san"),
        pytest.param(
            ["localhost"], ["127.0.0.1"], "localhost", True, id="dns-and-ip-san"
        ),
        pytest.param(
            ["xn--bcher-kva.example"],
            [],
            "bücher.example",
            True,
            id="idna-unicode-host",
        ),
        pytest.param(
            ["xn--bcher-kva.example"],
            [],
            "xn--bcher-kva.example",
            True,
            id="idna-ace-host",
        ),
        pytest.param(
            ["xn--bcher-kva.example"], [], "BÜCHER.example", True, id="idna-upper-case"
        ),
        pytest.param(
            ["*.xn--bcher-kva.example"],
            [],
            "shop.bücher.example",
            True,
            id="idna-wildcard",
        ),
        pytest.param(
            ["buecher.example"],
            [],
            "bücher.example",
            False,
            id="idna-not-transliterated",
        ),
        pytest.param(
            ["*.intranet"], [], "shop.intranet", False, id="wildcard-over-unknown-tld"
        ),
        pytest.param(
            ["*.localhost"], [], "shop.localhost", False, id="wildcard-over-localhost"
        ),
        pytest.param(
            ["*.com", "example.com"],
            [],
            "example.com",
            True,
            id="exact-name-beside-wildcard-over-com",
        ),
        pytest.param(
            ["*.com"], [], "EXAMPLE.com", False, id="wildcard-over-com-upper-case"
        ),
        pytest.param(
            ["Example.CO.uk"],
            [],
            "example.co.uk",
            True,
            id="exact-name-under-public-suffix",
        ),
        pytest.param(
            ["*.herokuapp.com"],
            [],
            "shop.herokuapp.com",
            True,
            id="wildcard-under-private-suffix",
        ),
        pytest.param(
            ["*.xn--fiqs8s"],
            [],
            "shop.xn--fiqs8s",
            False,
            id="wildcard-over-idn-suffix",
        ),
        pytest.param(
            ["*.example.com"], [], "shop..example.com", False, id="empty-label"
        ),
    ],
)
def test_covers(
    ca: CA, dns: list[str], ips: list[str], host: str, expected: bool
) -> None:
    cert = ca.issue("cn.example", dns=dns, ips=ips).cert
    assert certificates.covers(cert, host) is expected


def test_covers_ignores_the_common_name(ca: CA) -> None:
    cert = ca.issue("localhost", dns=[], ips=[], san=False).cert
    assert certificates.covers(cert, "localhost") is False


def test_covers_ignores_the_common_name_next_to_a_san(ca: CA) -> None:
    cert = ca.issue("www.example.com", dns=["shop.example.com"], ips=[]).cert
    assert certificates.covers(cert, "www.example.com") is False
    assert certificates.covers(cert, "shop.example.com") is True


def odd_leaf(ca: CA, tmp_path: Path, odd: str) -> tuple[Path, Path]:
    """Write a leaf for ``localhost`` that cryptography's verifier refuses
    whatever the host: ``odd`` is ``"critical"`` (an unknown critical
    extension) or ``"no-issuer"`` (an empty issuer name)."""
    issued = ca.issue()
    builder = (
        x509.CertificateBuilder()
        .subject_name(issued.cert.subject)
        .issuer_name(x509.Name([]) if odd == "no-issuer" else ca.name)
        .public_key(issued.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued.cert.not_valid_before_utc)
        .not_valid_after(issued.cert.not_valid_after_utc)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
    )
    if odd == "critical":
        unknown = x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"
        )
        builder = builder.add_extension(unknown, critical=True)
    cert = builder.sign(ca.key, hashes.SHA256())
    odd_issued = Issued(cert, issued.key)
    return odd_issued.write(tmp_path, "odd")


ODD = [
    pytest.param("critical", "unaccounted-for critical extensions", id="critical"),
    pytest.param("no-issuer", "non-empty Issuer", id="no-issuer"),
]


@pytest.mark.parametrize(("odd", "reason"), ODD)
@pytest.mark.parametrize(
    "hosts",
    [pytest.param(["localhost"], id="covered"),
     pytest.param(["other.example"], id="not-covered")],
)  # fmt: skip
def test_profile_error_is_not_a_host_mismatch(
    ca: CA, bundle: Path, tmp_path: Path, odd: str, reason: str, hosts: list[str]
) -> None:
    cert, key = odd_leaf(ca, tmp_path, odd)
    found = {f.id: f for f in check(cert, key, bundle, hosts)}
    assert "cert-host-mismatch" not in found
    profile = found["cert-profile"]
    assert profile.severity == "error"
    assert profile.message.startswith(f"{cert}: refused as a server certificate")
    assert reason in profile.message


@pytest.mark.parametrize(("odd", "reason"), ODD)
def test_covers_raises_on_a_profile_error(
    ca: CA, tmp_path: Path, odd: str, reason: str
) -> None:
    cert, _ = odd_leaf(ca, tmp_path, odd)
    leaf = certificates.load_chain(cert)[0]
    with pytest.raises(certificates.CertificateProfileError, match=reason):
        certificates.covers(leaf, "localhost")


def test_expired_leaf_is_still_matched_by_name(ca: CA) -> None:
    # The names are verified at a moment inside the leaf's validity.
    cert = ca.issue(starts=-20 * DAY, lasts=10 * DAY).cert
    assert certificates.covers(cert, "localhost") is True


def test_common_name_only_is_an_error(ca: CA, bundle: Path, tmp_path: Path) -> None:
    cert, key = ca.issue("localhost", san=False).write(tmp_path, "server")
    findings = check(cert, key, bundle, ["localhost"])
    assert [(f.id, f.severity) for f in findings] == [("cert-cn-only", "error")]
    assert "localhost" in findings[0].message
    assert str(cert) in findings[0].message


def test_no_hosts_to_check_is_info(ca: CA, bundle: Path, tmp_path: Path) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    findings = check(cert, key, bundle, hosts=[])
    assert [(f.id, f.severity) for f in findings] == [("cert-no-hosts", "info")]
    assert str(cert) in findings[0].message


# The private key -----------------------------------------------------------


def test_matching_key_and_chain_give_no_finding(
    ca: CA, bundle: Path, tmp_path: Path
) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    assert check(cert, key, bundle, ["localhost", "127.0.0.1"]) == []


@pytest.mark.parametrize(
    "other_key",
    [
        pytest.param("ec", id="other-ec-key"),
        pytest.param("rsa2048", id="other-rsa-key"),
    ],
)
def test_key_mismatch_is_an_error(
    ca: CA, bundle: Path, tmp_path: Path, other_key: str
) -> None:
    cert, _ = ca.issue().write(tmp_path, "server")
    _, key = ca.issue(key=other_key).write(tmp_path, "other")
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("cert-key-mismatch", "error")]
    assert str(key) in findings[0].message
    assert str(cert) in findings[0].message


def test_key_matches_by_public_key_not_by_file(ca: CA, tmp_path: Path) -> None:
    issued = ca.issue()
    cert, _ = issued.write(tmp_path, "server")
    key = tmp_path / "traditional.key"
    # Another encoding of the same key: the SubjectPublicKeyInfo still matches.
    key.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    assert "cert-key-mismatch" not in by_id(check(cert, key))


def test_check_key_compares_public_keys(ca: CA) -> None:
    issued, other = ca.issue(), ca.issue()
    assert certificates.check_key(issued.cert, issued.key, "c", "k") == []
    [finding] = certificates.check_key(issued.cert, other.key, "c", "k")
    assert (finding.id, finding.severity) == ("cert-key-mismatch", "error")


@pytest.mark.parametrize(
    "own",
    [
        pytest.param(True, id="own-key"),
        pytest.param(False, id="other-key"),
    ],
)
def test_encrypted_key_is_info(ca: CA, bundle: Path, tmp_path: Path, own: bool) -> None:
    issued = ca.issue()
    cert, _ = issued.write(tmp_path, "server")
    key = tmp_path / "encrypted.key"
    key.write_bytes((issued if own else ca.issue()).key_pem(password=b"secret"))
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("key-encrypted", "info")]
    assert str(key) in findings[0].message


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="missing"),
        pytest.param(b"not a key\n", id="not-pem"),
        pytest.param("certificate", id="certificate-as-key"),
        pytest.param("directory", id="directory"),
    ],
)
def test_unreadable_key_is_an_error(
    ca: CA, bundle: Path, tmp_path: Path, content: bytes | str | None
) -> None:
    issued = ca.issue()
    cert, _ = issued.write(tmp_path, "server")
    key = tmp_path / "server.key.broken"
    if content == "certificate":
        key.write_bytes(issued.cert_pem())
    elif content == "directory":
        key.mkdir()
    elif isinstance(content, bytes):
        key.write_bytes(content)
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("key-unreadable", "error")]
    assert str(key) in findings[0].message


def test_load_key_returns_none_when_encrypted(ca: CA, tmp_path: Path) -> None:
    key = tmp_path / "encrypted.key"
    key.write_bytes(ca.issue().key_pem(password=b"secret"))
    assert certificates.load_key(key) is None


# The chain -----------------------------------------------------------------


def test_chain_to_the_issuing_root(ca: CA, bundle: Path, tmp_path: Path) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    assert check(cert, key, bundle) == []


def test_bundle_with_several_roots(ca: CA, tmp_path: Path) -> None:
    bundle = tmp_path / "roots.pem"
    bundle.write_bytes(CA("Some Other Root").pem() + ca.pem())
    cert, key = ca.issue().write(tmp_path, "server")
    assert check(cert, key, bundle) == []


@pytest.mark.parametrize(
    ("dns", "ips", "host"),
    [
        pytest.param(["*.example.com"], [], "shop.example.com", id="wildcard"),
        pytest.param([], ["127.0.0.1"], "127.0.0.1", id="ipv4-only"),
        pytest.param([], ["::1"], "::1", id="ipv6-only"),
    ],
)
def test_chain_of_other_san_shapes(
    ca: CA, bundle: Path, tmp_path: Path, dns: list[str], ips: list[str], host: str
) -> None:
    cert, key = ca.issue("leaf", dns=dns, ips=ips).write(tmp_path, "server")
    assert check(cert, key, bundle, [host]) == []


@pytest.mark.parametrize(
    ("usage", "expected"),
    [pytest.param("server", [], id="server"),
     pytest.param(None, [], id="no-eku"),
     pytest.param("both", [], id="both"),
     pytest.param("client", ["cert-chain"], id="client-only")],
)  # fmt: skip
def test_chain_asks_for_a_server_certificate(
    ca: CA, bundle: Path, tmp_path: Path, usage: str | None, expected: list[str]
) -> None:
    # The chain is verified without a host name, as a server's still.
    cert, key = ca.issue(usage=usage).write(tmp_path, "server")
    findings = check(cert, key, bundle)
    assert [f.id for f in findings] == expected
    if expected:
        assert "does not allow a server" in findings[0].message


@pytest.fixture
def intermediate_leaf(ca: CA) -> Issued:
    """A leaf issued by an intermediate of :func:`ca`."""
    return CA("Certificates Test Intermediate", parent=ca).issue()


def test_intermediate_after_the_leaf_verifies(
    intermediate_leaf: Issued, bundle: Path, tmp_path: Path
) -> None:
    cert, key = intermediate_leaf.write(tmp_path, "server", with_chain=True)
    assert len(certificates.load_chain(cert)) == 2
    assert check(cert, key, bundle) == []


def test_missing_intermediate_is_a_chain_error(
    intermediate_leaf: Issued, bundle: Path, tmp_path: Path
) -> None:
    cert, key = intermediate_leaf.write(tmp_path, "server", with_chain=False)
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("cert-chain", "error")]
    assert str(cert) in findings[0].message
    assert str(bundle) in findings[0].message


def test_two_intermediates_after_the_leaf_verify(
    ca: CA, bundle: Path, tmp_path: Path
) -> None:
    middle = CA("Middle", parent=ca)
    issuing = CA("Issuing", parent=middle)
    cert, key = issuing.issue().write(tmp_path, "server", with_chain=True)
    assert len(certificates.load_chain(cert)) == 3
    assert check(cert, key, bundle) == []


def test_certificate_from_another_ca_is_a_chain_error(
    bundle: Path, tmp_path: Path
) -> None:
    cert, key = CA("Stranger CA").issue().write(tmp_path, "server")
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("cert-chain", "error")]
    assert str(cert) in findings[0].message


@pytest.mark.parametrize(
    ("starts", "lasts", "finding_id"),
    [
        pytest.param(-20 * DAY, 10 * DAY, "cert-expired", id="expired"),
        pytest.param(10 * DAY, 90 * DAY, "cert-not-yet-valid", id="not-yet-valid"),
    ],
)
def test_chain_is_checked_inside_the_leaf_validity(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    starts: datetime.timedelta,
    lasts: datetime.timedelta,
    finding_id: str,
) -> None:
    cert, key = ca.issue(starts=starts, lasts=lasts).write(tmp_path, "server")
    assert [f.id for f in check(cert, key, bundle)] == [finding_id]


def test_expired_leaf_from_another_ca_gives_both(bundle: Path, tmp_path: Path) -> None:
    stranger = CA("Stranger CA")
    cert, key = stranger.issue(starts=-20 * DAY, lasts=10 * DAY).write(
        tmp_path, "server"
    )
    assert sorted(f.id for f in check(cert, key, bundle)) == [
        "cert-chain",
        "cert-expired",
    ]


def test_unreadable_bundle(ca: CA, tmp_path: Path) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    missing = tmp_path / "no-such-bundle.pem"
    findings = check(cert, key, missing)
    assert [(f.id, f.severity) for f in findings] == [("ca-bundle-unreadable", "error")]
    assert str(missing) in findings[0].message


# Strength ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "weak"),
    [
        pytest.param("rsa1024", True, id="rsa1024"),
        pytest.param("rsa2048", False, id="rsa2048"),
        pytest.param("ec", False, id="ec"),
    ],
)
def test_weak_key(
    ca: CA, bundle: Path, tmp_path: Path, key_type: str, weak: bool
) -> None:
    cert, key = ca.issue(key=key_type).write(tmp_path, "server")
    found = by_id(check(cert, key, bundle))
    if weak:
        assert found["cert-weak-key"].severity == "warning"
        assert "1024" in found["cert-weak-key"].message
        assert str(cert) in found["cert-weak-key"].message
    else:
        assert found == {}


def test_sha1_signature_is_a_warning(tmp_path: Path) -> None:
    cert = sha1_certificate(tmp_path)
    found = by_id(check(cert, tmp_path / "sha1.key", cert))
    assert found["cert-sha1"].severity == "warning"
    assert str(cert) in found["cert-sha1"].message
    assert "cert-weak-key" not in found
    assert "cert-key-mismatch" not in found


def test_sha256_signature_is_not_reported(ca: CA) -> None:
    assert certificates.check_strength([ca.issue().cert, ca.cert], "server.crt") == []


# app_hosts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({}, [], id="none"),
        pytest.param(
            {"ENFORCE_HTTPS_HOST": "shop.example.com"},
            ["shop.example.com"],
            id="enforce-https-host",
        ),
        pytest.param(
            {"SERVER_NAME": "shop.example.com"}, ["shop.example.com"], id="server-name"
        ),
        pytest.param(
            {"SERVER_NAME": "shop.example.com:8443"},
            ["shop.example.com"],
            id="server-name-port-stripped",
        ),
        pytest.param(
            {"SERVER_NAME": "127.0.0.1:5000"},
            ["127.0.0.1"],
            id="server-name-ip-port-stripped",
        ),
        pytest.param(
            {"SERVER_NAME": "[::1]:8443"},
            ["[::1]"],
            id="server-name-ipv6-port-stripped",
        ),
        pytest.param(
            {"TRUSTED_HOSTS": ["shop.example.com"]},
            ["shop.example.com"],
            id="trusted-host",
        ),
        pytest.param(
            {"TRUSTED_HOSTS": [".example.com"]},
            ["example.com", "subdomain.example.com"],
            id="trusted-domain-and-subdomains",
        ),
        pytest.param(
            {"TRUSTED_HOSTS": ["shop.example.com:443", "127.0.0.1"]},
            ["shop.example.com", "127.0.0.1"],
            id="trusted-hosts-port-stripped",
        ),
        pytest.param(
            {
                "ENFORCE_HTTPS_HOST": "www.example.com",
                "SERVER_NAME": "app.example.com:5000",
                "TRUSTED_HOSTS": ["shop.example.com", ".example.org"],
            },
            [
                "www.example.com",
                "app.example.com",
                "shop.example.com",
                "example.org",
                "subdomain.example.org",
            ],
            id="all-together",
        ),
    ],
)
def test_app_hosts(config: dict[str, t.Any], expected: list[str]) -> None:
    app = Flask("hosts")
    app.config.update(config)
    assert app_hosts(app) == expected


# url_findings without a server ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8443", id="http"),
        pytest.param("ftp://127.0.0.1", id="ftp"),
        pytest.param("https://", id="no-host"),
        pytest.param("127.0.0.1:8443", id="no-scheme"),
    ],
)
def test_url_must_be_https(url: str) -> None:
    findings = url_findings(url, None, [], now(), 30, timeout=5)
    assert [(f.id, f.severity) for f in findings] == [("url-invalid", "error")]
    assert url in findings[0].message


def test_url_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    url = f"https://127.0.0.1:{closed}"
    findings = url_findings(url, None, [], now(), 30, timeout=5)
    assert [(f.id, f.severity) for f in findings] == [("url-unreachable", "error")]
    assert url in findings[0].message


# Certificates cryptography cannot fully process ----------------------------

UNPROCESSABLE = [
    pytest.param(der.duplicate_last_extension, "Duplicate 2.5.29.17", id="dup-ext"),
    pytest.param(der.unsupported_curve, "1.2.840.10045.3.1.2", id="curve"),
]


@pytest.mark.parametrize(("edit", "reason"), UNPROCESSABLE)
def test_unprocessable_leaf_is_a_finding(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    edit: t.Callable[[bytes], bytes],
    reason: str,
) -> None:
    issued = ca.issue()
    cert = tmp_path / "server.crt"
    cert.write_bytes(der.resigned(issued, ca, edit))
    _, key = issued.write(tmp_path, "key-only")
    findings = check(cert, key, bundle)
    assert [(f.id, f.severity) for f in findings] == [("cert-unsupported", "error")]
    assert findings[0].message.startswith(f"{cert}: cryptography cannot process it:")
    assert reason in findings[0].message


@pytest.mark.parametrize(("edit", "reason"), UNPROCESSABLE)
def test_unprocessable_chain_certificate_is_named(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    edit: t.Callable[[bytes], bytes],
    reason: str,
) -> None:
    cert, key = ca.issue().write(tmp_path, "server")
    odd = der.resigned(ca.issue("odd"), ca, edit)
    cert.write_bytes(cert.read_bytes() + odd)
    findings = check(cert, key, bundle)
    assert [f.id for f in findings] == ["cert-unsupported"]
    assert f"{cert} (chain certificate 1): " in findings[0].message
    assert reason in findings[0].message
