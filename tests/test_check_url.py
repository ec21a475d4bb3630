"""``flask https check --url`` against a pool of servers behind one address.

A load balancer may send each connection to another server. The pool is a
real TLS server on loopback whose SNI callback (called for every handshake,
with or without SNI) hands each new connection the next of its "backends",
in turn: a context with its own certificate, or ``None`` for a server that
fails the handshake.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import ssl
import threading
import typing as t
from collections.abc import Iterator
from pathlib import Path

import der
import pytest
from conftest import create_app, server_context, serving
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from pki import CA, DAY, Issued

from flask_enforce_https.checks import presented, url_findings
from flask_enforce_https.handshakes import HANDSHAKES


@pytest.fixture(scope="module")
def ca() -> CA:
    """The CA of the pool's good certificates; it is the bundle."""
    return CA("Pool Test Root CA")


@pytest.fixture
def bundle(ca: CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca-bundle.pem"
    path.write_bytes(ca.pem())
    return path


@pytest.fixture
def app(bundle: Path) -> Flask:
    return create_app(
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle), ENFORCE_HTTPS_HOST="localhost"
    )


class Pool:
    """Backends handed out in turn, one per handshake; counts handshakes."""

    def __init__(self, backends: t.Sequence[ssl.SSLContext | None]) -> None:
        self._next = itertools.cycle(backends)
        self._lock = threading.Lock()
        self.handshakes = 0

    def choose(
        self, sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext
    ) -> int | None:
        with self._lock:
            backend = next(self._next)
            self.handshakes += 1
        if backend is None:
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR  # a server that is down
        sock.context = backend
        return None


def backend(
    issued: Issued, folder: Path, name: str, chain: bool = True
) -> ssl.SSLContext:
    """A server context presenting ``issued`` (with its chain, or not)."""
    return server_context(*issued.write(folder, name, with_chain=chain))


@contextlib.contextmanager
def pool_serving(
    app: Flask, backends: t.Sequence[ssl.SSLContext | None], folder: Path
) -> Iterator[tuple[str, Pool]]:
    """Serve ``app`` over TLS on a loopback port whose handshakes go to
    ``backends`` in turn; yield its URL and the pool."""
    pool = Pool(backends)
    listening = backend(CA("Listener CA").issue(), folder, "listener")
    listening.sni_callback = pool.choose  # type: ignore[assignment]
    with serving(app, listening) as port:
        yield f"https://127.0.0.1:{port}", pool


def check_all(app: Flask, *args: str) -> tuple[int, list[dict[str, str]]]:
    """Run ``flask https check --format json ARGS``: exit code and findings."""
    result = app.test_cli_runner().invoke(
        args=["https", "check", "--format", "json", *args]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output
    )
    return result.exit_code, json.loads(result.output)


def check(app: Flask, *args: str) -> tuple[int, list[dict[str, str]]]:
    """:func:`check_all`, without the ``url-certificate`` info findings that
    describe each leaf seen (tested on their own below)."""
    code, findings = check_all(app, *args)
    return code, [f for f in findings if f["id"] != "url-certificate"]


def by_id(findings: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for finding in findings:
        found.setdefault(finding["id"], []).append(finding)
    return found


def test_one_certificate_pool_passes(ca: CA, app: Flask, tmp_path: Path) -> None:
    good = ca.issue()
    backends = [backend(good, tmp_path, "a"), backend(good, tmp_path, "b")]
    with pool_serving(app, backends, tmp_path) as (url, pool):
        code, findings = check(app, "--url", url)
    assert (code, findings) == (0, [])
    assert pool.handshakes == HANDSHAKES == 8


def test_half_the_pool_untrusted_is_an_error(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    # The untrusted server answers every handshake that reads the leaf
    # unverified, the trusted one every handshake that verifies the chain:
    # each check passes alone, so only comparing the leaves shows the pool.
    stranger = CA("Stranger CA").issue()
    backends = [backend(stranger, tmp_path, "bad"), backend(ca.issue(), tmp_path, "ok")]
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url)
    assert code == 1
    [mixed] = by_id(findings)["url-mixed-certificates"]
    assert mixed["severity"] == "error"
    assert mixed["message"].startswith(
        f"{url}: 2 different certificates in 8 handshakes: "
    )
    assert "#1 CN=localhost, until " in mixed["message"]
    assert ", in 4 of 8" in mixed["message"]
    assert [f["id"] for f in findings] == ["url-mixed-certificates"]


def test_expired_server_answering_only_verifying_handshakes(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    # Its leaf is never read, but its chain never verifies: still an error.
    expired = ca.issue(starts=-20 * DAY, lasts=10 * DAY)
    backends = [backend(ca.issue(), tmp_path, "ok"), backend(expired, tmp_path, "old")]
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url)
    assert code == 1
    [chain] = findings
    assert chain["id"] == "cert-chain"
    assert chain["message"] == (
        f"{url} certificate: does not verify: certificate has expired"
    )


@pytest.mark.parametrize(
    "order",
    [pytest.param(("old", "ok"), id="expired-first"),
     pytest.param(("ok", "ok", "old"), id="expired-third")],
)  # fmt: skip
def test_each_leaf_is_named_in_its_findings(
    ca: CA, app: Flask, tmp_path: Path, order: tuple[str, ...]
) -> None:
    issued = {"ok": ca.issue(), "old": ca.issue(starts=-20 * DAY, lasts=10 * DAY)}
    backends = [backend(issued[name], tmp_path, name) for name in order]
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url)
    found = by_id(findings)
    assert code == 1
    assert len(found["url-mixed-certificates"]) == 1
    [expired] = found["cert-expired"]
    number = 1 if order[0] == "old" else 2  # in the order first seen
    assert expired["message"].startswith(f"{url} certificate #{number}: ")
    assert "cert-chain" not in found, "the leaf's dates are reported once"


def test_chain_that_verifies_in_some_handshakes_only(
    app: Flask, tmp_path: Path, bundle: Path
) -> None:
    # One leaf everywhere, but one server of three forgets the intermediate.
    root = CA("Pool Chain Root")
    bundle.write_bytes(root.pem())
    leaf = CA("Pool Intermediate", parent=root).issue()
    backends = [
        backend(leaf, tmp_path, "full-a"),
        backend(leaf, tmp_path, "full-b"),
        backend(leaf, tmp_path, "bare", chain=False),
    ]
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url)
    assert code == 1
    [chain] = findings
    assert chain["id"] == "cert-chain"
    # Handshakes 2, 4, 6 and 8 verify: servers 2, 1, 3 and 2.
    assert chain["message"].startswith(
        f"{url} certificate: does not verify in 1 of 4 handshakes: "
    )


def test_a_server_of_the_pool_down_is_unreachable(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    good = ca.issue()
    backends = [backend(good, tmp_path, "a"), backend(good, tmp_path, "b"), None]
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url)
    assert code == 1
    [down] = findings
    assert down["id"] == "url-unreachable"
    assert down["message"].startswith(
        f"{url}: 2 of 8 handshakes failed after the first succeeded: "
    )


@pytest.mark.parametrize("count", [2, 3, 11])
def test_handshakes_option_sets_how_many(
    ca: CA, app: Flask, tmp_path: Path, count: int
) -> None:
    good = ca.issue()
    with pool_serving(app, [backend(good, tmp_path, "a")], tmp_path) as (url, pool):
        code, findings = check(app, "--url", url, "--handshakes", str(count))
    assert (code, findings) == (0, [])
    assert pool.handshakes == count


def test_two_handshakes_miss_what_more_would_see(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    stranger = CA("Stranger CA").issue()
    good = ca.issue()
    # Three servers answering in turn: two handshakes never reach the third.
    backends = [
        backend(good, tmp_path, "a"),
        backend(good, tmp_path, "b"),
        backend(stranger, tmp_path, "c"),
    ]
    with pool_serving(app, backends, tmp_path) as (url, _):
        assert check(app, "--url", url, "--handshakes", "2") == (0, [])
    with pool_serving(app, backends, tmp_path) as (url, _):
        code, findings = check(app, "--url", url, "--handshakes", "3")
    assert code == 1
    assert [f["id"] for f in findings] == ["url-mixed-certificates"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--url", "https://127.0.0.1:1", "--handshakes", "1"],
                     "1 is not in the range 2<=x<=100", id="one"),
        pytest.param(["--url", "https://127.0.0.1:1", "--handshakes", "101"],
                     "101 is not in the range 2<=x<=100", id="too-many"),
        pytest.param(["--handshakes", "4"], "--handshakes is for --url", id="no-url"),
    ],
)  # fmt: skip
def test_bad_handshakes_is_a_usage_error(
    app: Flask, args: list[str], message: str
) -> None:
    result = app.test_cli_runner().invoke(args=["https", "check", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_url_findings_refuses_fewer_than_two_handshakes(app: Flask) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    with pytest.raises(ValueError, match="at least 2 handshakes, got 1"):
        url_findings("https://127.0.0.1:1", None, [], now, 30, handshakes=1)


# What the server presented, and a port that is not TLS --------------------


def test_the_certificate_presented_is_described(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    good = ca.issue(dns=["localhost", "shop.example"], ips=["127.0.0.1"])
    expires = f"{good.cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    with pool_serving(app, [backend(good, tmp_path, "a")], tmp_path) as (url, _):
        code, findings = check_all(app, "--url", url)
        text = app.test_cli_runner().invoke(args=["https", "check", "--url", url])
    assert code == 0
    [shown] = findings
    assert (shown["id"], shown["severity"]) == ("url-certificate", "info")
    assert shown["message"].startswith(
        f"{url} certificate: subject CN=localhost;"
        " SAN DNS:localhost, DNS:shop.example, IP:127.0.0.1;"
        f" issuer CN=Pool Test Root CA; expires {expires}; SHA-256 "
    )
    assert f"INFO [url-certificate] {shown['message']}\n" in text.output
    assert text.output.endswith("0 errors, 0 warnings, 1 info\n")


def test_each_leaf_of_a_mixed_pool_is_described(
    ca: CA, app: Flask, tmp_path: Path
) -> None:
    stranger = CA("Stranger CA").issue()
    backends = [backend(stranger, tmp_path, "bad"), backend(ca.issue(), tmp_path, "ok")]
    with pool_serving(app, backends, tmp_path) as (url, _):
        _, findings = check_all(app, "--url", url)
    shown = [f["message"] for f in findings if f["id"] == "url-certificate"]
    assert len(shown) == 2
    assert "issuer CN=Stranger CA;" in shown[0]
    assert shown[0].startswith(f"{url} certificate #1: subject CN=localhost;")
    assert "issuer CN=Pool Test Root CA;" in shown[1]
    assert shown[1].startswith(f"{url} certificate #2: ")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_plain_http_port_is_named_as_such(app: Flask, fmt: str) -> None:
    with serving(app) as port:
        result = app.test_cli_runner().invoke(
            args=[
                "https",
                "check",
                "--format",
                fmt,
                "--url",
                f"https://127.0.0.1:{port}",
            ]
        )
    assert result.exit_code == 1
    expected = f"https://127.0.0.1:{port}: port {port} answers plain HTTP, not HTTPS"
    assert expected in result.output
    assert "url-unreachable" in result.output
    assert "Traceback" not in result.output


def test_a_tls_server_that_fails_handshakes_is_not_called_plain_http(
    app: Flask, tmp_path: Path
) -> None:
    # Down for every handshake, but not speaking HTTP in plain text either.
    with pool_serving(app, [None], tmp_path) as (url, _):
        code, findings = check_all(app, "--url", url)
    assert code == 1
    [down] = findings
    assert down["id"] == "url-unreachable"
    assert "plain HTTP" not in down["message"]


def test_an_unprocessable_leaf_is_still_described(ca: CA) -> None:
    # Called directly: OpenSSL refuses to serve such a certificate ("invalid
    # certificate"), so no live server can present it to check --url.
    leaf = x509.load_pem_x509_certificate(
        der.resigned(ca.issue(), ca, der.duplicate_last_extension)
    )
    found = presented(leaf.public_bytes(serialization.Encoding.DER), "where")
    assert (found.id, found.severity) == ("url-certificate", "info")
    assert found.message.startswith("where: CN=localhost, until ")
