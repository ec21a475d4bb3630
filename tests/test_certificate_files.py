"""Certificate, key and CA files are read as settings files are: a regular
file only, opened without blocking, size-limited; a clear error naming the
config key or the file, never a hang, a traceback or memory exhausted.

A FIFO that is opened for reading blocks until a writer comes: each such
test runs in a thread, and if it is still blocked after a bounded wait the
FIFO is opened for writing (which lets the read end) and the test fails.
``/dev/zero`` is read in a subprocess with its address space limited, so
that a regression is a quick ``MemoryError`` there, not a machine out of
memory.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import subprocess
import sys
import threading
import typing as t
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import create_app
from flask import Flask
from pki import CA, Issued
from pki import test_ca as session_ca

from flask_enforce_https import ConfigurationError, EnforceHTTPS
from flask_enforce_https.certificate_files import MAX_BUNDLE_SIZE, MAX_SIZE
from flask_enforce_https.checks import certificate_findings
from flask_enforce_https.findings import Finding

ROOT = Path(__file__).resolve().parent.parent
#: Seconds a read of a FIFO may take before the test unblocks it and fails.
FIFO_TIMEOUT = 10.0
#: The address space of the ``/dev/zero`` subprocess, and its time.
MEMORY_LIMIT = 1024 * 1024 * 1024
SUBPROCESS_TIMEOUT = 60.0
T = t.TypeVar("T")


def bounded(call: Callable[[], T], fifos: list[Path]) -> T:
    """Return what ``call`` returns, or fail if it is still blocked on one of
    ``fifos`` after :data:`FIFO_TIMEOUT` seconds (then unblocked)."""
    outcome: dict[str, t.Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as e:  # handed to the test's thread
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(FIFO_TIMEOUT)
    if thread.is_alive():
        for fifo in fifos:
            # A writer that opens and closes at once: the reader sees EOF.
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(FIFO_TIMEOUT)
        pytest.fail(f"reading a FIFO blocked for over {FIFO_TIMEOUT} s")
    if "error" in outcome:
        raise outcome["error"]
    return t.cast(T, outcome["value"])


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.pem"
    os.mkfifo(path)
    return path


@pytest.fixture(scope="module")
def server() -> Issued:
    return CA("Certificate Files Test CA").issue()


@pytest.fixture
def files(server: Issued, tmp_path: Path) -> tuple[Path, Path]:
    """A good certificate and key for localhost."""
    return server.write(tmp_path, "server")


def padded(pem: bytes, size: int) -> bytes:
    """``pem`` then text after it, ``size`` bytes in all: text outside PEM
    blocks is ignored, so only the size makes it wrong."""
    return pem + b"#" * (size - len(pem))


def check(cert: Path, key: Path | None, bundle: Path | None) -> list[Finding]:
    now = datetime.datetime.now(datetime.timezone.utc)
    return certificate_findings(cert, key, bundle, ["localhost"], now, 30)


# -- ENFORCE_HTTPS_CLIENT_CA: a ConfigurationError naming the key ------------------


def test_client_ca_fifo_is_a_configuration_error(fifo: Path) -> None:
    def start() -> ConfigurationError:
        with pytest.raises(ConfigurationError) as excinfo:
            create_app(ENFORCE_HTTPS_CLIENT_CA=str(fifo))
        return excinfo.value

    error = bounded(start, [fifo])
    assert error.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert str(error) == (
        f"ENFORCE_HTTPS_CLIENT_CA: {fifo}: cannot read the file: it is a FIFO"
    )


def test_client_ca_over_the_limit_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "big-ca.pem"
    path.write_bytes(padded(session_ca().pem(), MAX_BUNDLE_SIZE + 1))
    with pytest.raises(ConfigurationError) as excinfo:
        create_app(ENFORCE_HTTPS_CLIENT_CA=str(path))
    assert excinfo.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert str(path) in str(excinfo.value)
    assert f"limited to {MAX_BUNDLE_SIZE} bytes" in str(excinfo.value)


def test_client_ca_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big-ca.pem"
    path.write_bytes(padded(session_ca().pem(), MAX_BUNDLE_SIZE))
    create_app(ENFORCE_HTTPS_CLIENT_CA=str(path))


# -- the certificate check: a finding naming the file ---------------------------------


def test_certificate_fifo_is_unreadable(fifo: Path, files: tuple[Path, Path]) -> None:
    findings = bounded(lambda: check(fifo, files[1], None), [fifo])
    assert [(f.id, f.message) for f in findings] == [
        ("cert-unreadable", f"{fifo}: cannot read the file: it is a FIFO")
    ]
    assert "ENFORCE_HTTPS_CERTIFICATE" in findings[0].hint


def test_key_fifo_is_unreadable(fifo: Path, files: tuple[Path, Path]) -> None:
    findings = bounded(lambda: check(files[0], fifo, None), [fifo])
    unreadable = [f for f in findings if f.id == "key-unreadable"]
    assert [f.message for f in unreadable] == [
        f"{fifo}: cannot read the file: it is a FIFO"
    ]
    assert "ENFORCE_HTTPS_CERTIFICATE_KEY" in unreadable[0].hint


def test_bundle_fifo_is_unreadable(fifo: Path, files: tuple[Path, Path]) -> None:
    findings = bounded(lambda: check(files[0], files[1], fifo), [fifo])
    assert [(f.id, f.message) for f in findings] == [
        ("ca-bundle-unreadable", f"{fifo}: cannot read the file: it is a FIFO")
    ]
    assert "ENFORCE_HTTPS_CA_BUNDLE" in findings[0].hint


@pytest.mark.parametrize(
    ("which", "limit", "finding"),
    [
        pytest.param("certificate", MAX_SIZE, "cert-unreadable", id="certificate"),
        pytest.param("key", MAX_SIZE, "key-unreadable", id="key"),
        pytest.param("bundle", MAX_BUNDLE_SIZE, "ca-bundle-unreadable", id="bundle"),
    ],
)
def test_file_over_the_limit_is_unreadable(
    which: str, limit: int, finding: str, server: Issued, tmp_path: Path
) -> None:
    cert, key = server.write(tmp_path, "server")
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(server.cert_pem())
    big = {"certificate": cert, "key": key, "bundle": bundle}[which]
    big.write_bytes(padded(big.read_bytes(), limit + 1))
    found = {f.id: f for f in check(cert, key, bundle)}
    assert finding in found, found
    assert found[finding].message == (
        f"{big}: the file is {limit + 1} bytes; it is limited to {limit} bytes"
    )


def test_certificate_fifo_at_start_up_is_logged_not_hung(
    fifo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = Flask("fifo")
    app.config.update(TESTING=True, ENFORCE_HTTPS_CERTIFICATE=str(fifo))
    with caplog.at_level(logging.ERROR, logger="flask_enforce_https"):
        bounded(lambda: EnforceHTTPS(app), [fifo])
    assert [r.getMessage() for r in caplog.records] == [
        f"{fifo}: cannot read the file: it is a FIFO [cert-unreadable] Point"
        " ENFORCE_HTTPS_CERTIFICATE (or --certificate) at the PEM file with"
        " the leaf certificate first."
    ]


# -- /dev/zero, in a subprocess ------------------------------------------------

_DEV_ZERO = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (__LIMIT__, __LIMIT__))
import datetime, json
from pathlib import Path
from flask import Flask
from flask_enforce_https import ConfigurationError, EnforceHTTPS
from flask_enforce_https.checks import certificate_findings

zero, good = Path("/dev/zero"), Path(__GOOD__)
now = datetime.datetime.now(datetime.timezone.utc)
out = {}
for name, args in [
    ("certificate", (zero, None, None)),
    ("key", (good, zero, None)),
    ("bundle", (good, None, zero)),
]:
    found = certificate_findings(*args, ["localhost"], now, 30)
    out[name] = [[f.id, f.message] for f in found if "unreadable" in f.id]
app = Flask("zero")
app.config["ENFORCE_HTTPS_CLIENT_CA"] = str(zero)
try:
    EnforceHTTPS(app)
except ConfigurationError as e:
    out["client-ca"] = str(e)
print(json.dumps(out))
"""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused_unread(files: tuple[Path, Path]) -> None:
    code = _DEV_ZERO.replace("__GOOD__", repr(str(files[0])))
    code = code.replace("__LIMIT__", str(MEMORY_LIMIT))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    device = "/dev/zero: cannot read the file: it is a device"
    assert out == {
        "certificate": [["cert-unreadable", device]],
        "key": [["key-unreadable", device]],
        "bundle": [["ca-bundle-unreadable", device]],
        "client-ca": f"ENFORCE_HTTPS_CLIENT_CA: {device}",
    }
