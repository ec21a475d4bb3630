"""``flask https check`` end to end, its deploy findings, and the certificate
problems logged when the extension starts.

The command checks a certificate file (``--certificate``/``--key`` or the
``ENFORCE_HTTPS_CERTIFICATE*`` config), a live server (``--url``, against a
real TLS server on loopback) and the effective settings; it prints text or
JSON and exits 1 when any finding is an error. Certificates are made at test
time by :mod:`pki` and written to ``tmp_path``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import typing as t
from pathlib import Path

import der
import pytest
from click.testing import Result
from conftest import create_app, https, marked_config, serving, serving_tls
from flask import Flask
from flask.testing import FlaskCliRunner
from pki import CA, DAY
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_enforce_https import ConfigurationError, deploy, findings

FINDING_KEYS = {"id", "severity", "message", "hint"}
SEVERITIES = {"error", "warning", "info"}
SEVERITY_OF = {
    "hsts-preload-max-age": "warning",
    "hsts-preload-subdomains": "warning",
    "hsts-integrations-http": "warning",
    "settings-other-application": "warning",
}


@pytest.fixture
def config(request: pytest.FixtureRequest) -> dict[str, t.Any]:
    """Pin the redirect host, as a deployment does (else every check warns
    with redirect-host-unpinned); ``@pytest.mark.config(**keys)`` replaces it."""
    return marked_config(request, {"ENFORCE_HTTPS_HOST": "localhost"})


@pytest.fixture(scope="module")
def ca() -> CA:
    """The CA that issues the server certificates; it is the bundle."""
    return CA("Check Test Root CA")


@pytest.fixture
def bundle(ca: CA, tmp_path: Path) -> Path:
    """The PEM file of :func:`ca`, for ``ENFORCE_HTTPS_CA_BUNDLE``."""
    path = tmp_path / "ca-bundle.pem"
    path.write_bytes(ca.pem())
    return path


@pytest.fixture
def good(ca: CA, tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 by :func:`ca`, and its key."""
    return ca.issue().write(tmp_path, "good")


@pytest.fixture
def expired(ca: CA, tmp_path: Path) -> tuple[Path, Path]:
    """An expired certificate for localhost by :func:`ca`, and its key."""
    return ca.issue(starts=-20 * DAY, lasts=10 * DAY).write(tmp_path, "expired")


def invoke(runner: FlaskCliRunner, *args: str) -> Result:
    """Run ``flask https check ARGS``; it never shows a traceback."""
    result = runner.invoke(args=["https", "check", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output
    )
    return result


def check_json(runner: FlaskCliRunner, *args: str) -> tuple[int, list[dict[str, str]]]:
    """Run ``flask https check --format json ARGS``: exit code and findings."""
    result = invoke(runner, "--format", "json", *args)
    findings = json.loads(result.output)
    assert isinstance(findings, list)
    for finding in findings:
        assert set(finding) == FINDING_KEYS
        assert all(isinstance(value, str) for value in finding.values())
        assert finding["severity"] in SEVERITIES
    return result.exit_code, findings


def ids(findings: list[dict[str, str]]) -> list[str]:
    """The ids of ``findings``, in order."""
    return [f["id"] for f in findings]


def one(findings: list[dict[str, str]], finding_id: str) -> dict[str, str]:
    """The one finding with ``finding_id``."""
    [finding] = [f for f in findings if f["id"] == finding_id]
    return finding


# The certificate file ------------------------------------------------------


def test_good_certificate_passes(
    runner: FlaskCliRunner, good: tuple[Path, Path], bundle: Path, app: Flask
) -> None:
    app.config["ENFORCE_HTTPS_CA_BUNDLE"] = str(bundle)
    cert, key = good
    code, findings = check_json(
        runner,
        "--certificate",
        str(cert),
        "--key",
        str(key),
        "--hostname",
        "localhost",
        "--hostname",
        "127.0.0.1",
    )
    assert (code, findings) == (0, [])


def test_good_certificate_text_summary(
    runner: FlaskCliRunner, good: tuple[Path, Path], bundle: Path, app: Flask
) -> None:
    app.config["ENFORCE_HTTPS_CA_BUNDLE"] = str(bundle)
    cert, key = good
    result = invoke(
        runner, "--certificate", str(cert), "--key", str(key), "--hostname", "localhost"
    )
    assert result.exit_code == 0
    assert result.output == "0 errors, 0 warnings, 0 info\n"


def test_config_fallbacks(
    good: tuple[Path, Path], bundle: Path, settings: t.Any
) -> None:
    cert, key = good
    app = create_app(
        settings,
        ENFORCE_HTTPS_CERTIFICATE=str(cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(key),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
        ENFORCE_HTTPS_HOST="localhost",
    )
    assert check_json(app.test_cli_runner()) == (0, [])


@pytest.mark.parametrize(
    ("which", "finding_id"),
    [
        pytest.param("ENFORCE_HTTPS_CERTIFICATE", "cert-expired", id="certificate"),
        pytest.param("ENFORCE_HTTPS_CERTIFICATE_KEY", "cert-key-mismatch", id="key"),
        pytest.param("ENFORCE_HTTPS_CA_BUNDLE", "cert-chain", id="bundle"),
    ],
)
def test_each_config_key_is_used(
    ca: CA,
    good: tuple[Path, Path],
    expired: tuple[Path, Path],
    bundle: Path,
    tmp_path: Path,
    which: str,
    finding_id: str,
) -> None:
    cert, key = good
    config = {
        "ENFORCE_HTTPS_CERTIFICATE": str(cert),
        "ENFORCE_HTTPS_CERTIFICATE_KEY": str(key),
        "ENFORCE_HTTPS_CA_BUNDLE": str(bundle),
    }
    if which == "ENFORCE_HTTPS_CERTIFICATE":
        config[which] = str(expired[0])
        config["ENFORCE_HTTPS_CERTIFICATE_KEY"] = str(expired[1])
    elif which == "ENFORCE_HTTPS_CERTIFICATE_KEY":
        config[which] = str(ca.issue().write(tmp_path, "other")[1])
    else:
        stranger = tmp_path / "stranger.pem"
        stranger.write_bytes(CA("Stranger CA").pem())
        config[which] = str(stranger)
    app = create_app(ENFORCE_HTTPS_HOST="localhost", **config)
    code, findings = check_json(app.test_cli_runner())
    assert (code, ids(findings)) == (1, [finding_id])
    assert one(findings, finding_id)["severity"] == "error"


def test_options_win_over_config(
    good: tuple[Path, Path], expired: tuple[Path, Path], bundle: Path
) -> None:
    app = create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(expired[0]),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(expired[1]),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
        ENFORCE_HTTPS_HOST="localhost",
    )
    runner = app.test_cli_runner()
    assert check_json(runner)[0] == 1
    cert, key = good
    assert check_json(runner, "--certificate", str(cert), "--key", str(key)) == (
        0,
        [],
    )


@pytest.mark.parametrize(
    ("hostnames", "config", "uncovered"),
    [
        pytest.param(
            ["localhost", "shop.example.com"],
            {},
            ["shop.example.com"],
            id="hostname-option",
        ),
        pytest.param(
            ["a.example.com", "localhost", "b.example.com"],
            {},
            ["a.example.com", "b.example.com"],
            id="hostname-repeated",
        ),
        pytest.param(
            [],
            {"ENFORCE_HTTPS_HOST": "shop.example.com"},
            ["shop.example.com"],
            id="enforce-https-host",
        ),
        pytest.param(
            [],
            {"SERVER_NAME": "shop.example.com:8443"},
            ["shop.example.com"],
            id="server-name",
        ),
        pytest.param(
            [],
            {"TRUSTED_HOSTS": [".example.com"]},
            ["example.com", "subdomain.example.com"],
            id="trusted-hosts",
        ),
        pytest.param(
            ["127.0.0.1"], {"ENFORCE_HTTPS_HOST": "localhost"}, [], id="all-covered"
        ),
    ],
)
def test_hosts_checked(
    good: tuple[Path, Path],
    bundle: Path,
    hostnames: list[str],
    config: dict[str, t.Any],
    uncovered: list[str],
) -> None:
    cert, key = good
    app = create_app(
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
        **{"ENFORCE_HTTPS_HOST": "localhost", **config},
    )
    args = ["--certificate", str(cert), "--key", str(key)]
    for hostname in hostnames:
        args += ["--hostname", hostname]
    code, findings = check_json(app.test_cli_runner(), *args)
    assert ids(findings) == ["cert-host-mismatch"] * len(uncovered)
    for finding, host in zip(findings, uncovered, strict=True):
        assert finding["severity"] == "error"
        assert f"does not cover {host} " in finding["message"]
    assert code == (1 if uncovered else 0)


@pytest.mark.config  # no ENFORCE_HTTPS_HOST
def test_no_hosts_at_all_is_info(
    runner: FlaskCliRunner, good: tuple[Path, Path], bundle: Path, app: Flask
) -> None:
    app.config["ENFORCE_HTTPS_CA_BUNDLE"] = str(bundle)
    code, findings = check_json(runner, "--certificate", str(good[0]))
    # Nothing pins the redirect host either: a warning of its own.
    assert (code, ids(findings)) == (0, ["cert-no-hosts", "redirect-host-unpinned"])
    assert findings[0]["severity"] == "info"


@pytest.mark.parametrize(
    ("config", "expiring"),
    [
        pytest.param({}, True, id="default-30"),
        pytest.param({"ENFORCE_HTTPS_EXPIRY_WARNING_DAYS": 60}, True, id="window-60"),
        pytest.param({"ENFORCE_HTTPS_EXPIRY_WARNING_DAYS": 9}, False, id="window-9"),
        pytest.param({"ENFORCE_HTTPS_EXPIRY_WARNING_DAYS": 0}, False, id="window-0"),
    ],
)
def test_expiry_warning_days(
    ca: CA, bundle: Path, tmp_path: Path, config: dict[str, t.Any], expiring: bool
) -> None:
    cert, key = ca.issue(lasts=11 * DAY).write(tmp_path, "soon")
    app = create_app(
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle), ENFORCE_HTTPS_HOST="localhost", **config
    )
    code, findings = check_json(
        app.test_cli_runner(), "--certificate", str(cert), "--key", str(key)
    )
    assert code == 0  # a warning does not fail the check
    assert ids(findings) == (["cert-expiring"] if expiring else [])
    if expiring:
        assert findings[0]["severity"] == "warning"


@pytest.mark.config  # no ENFORCE_HTTPS_HOST
def test_text_format(
    runner: FlaskCliRunner, expired: tuple[Path, Path], bundle: Path, app: Flask
) -> None:
    app.config["ENFORCE_HTTPS_CA_BUNDLE"] = str(bundle)
    cert, key = expired
    result = invoke(
        runner,
        "--format",
        "text",
        "--certificate",
        str(cert),
        "--key",
        str(key),
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"ERROR [cert-expired] {cert}: expired on ")
    assert lines[1] == "    hint: Renew the certificate and reload the server."
    assert lines[2].startswith(f"INFO [cert-no-hosts] {cert}")
    assert lines[3].startswith("    hint: ")
    assert lines[4].startswith("WARNING [redirect-host-unpinned] ")
    assert lines[5].startswith("    hint: ")
    assert lines[6:] == ["1 error, 1 warning, 1 info"]


def test_json_format_is_the_same_findings_as_text(
    runner: FlaskCliRunner, expired: tuple[Path, Path], bundle: Path, app: Flask
) -> None:
    app.config["ENFORCE_HTTPS_CA_BUNDLE"] = str(bundle)
    args = ["--certificate", str(expired[0]), "--hostname", "other.example"]
    code, findings = check_json(runner, *args)
    text = invoke(runner, *args).output
    assert code == 1
    assert ids(findings) == ["cert-expired", "cert-host-mismatch"]
    for finding in findings:
        line = f"{finding['severity'].upper()} [{finding['id']}] {finding['message']}"
        assert line in text.splitlines()
        assert f"    hint: {finding['hint']}" in text.splitlines()


def test_unknown_format_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["https", "check", "--format", "xml"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("kind", "code", "finding_id", "severity"),
    [
        pytest.param("expired", 1, "cert-expired", "error", id="error-exits-1"),
        pytest.param("expiring", 0, "cert-expiring", "warning", id="warning-exits-0"),
        pytest.param("no-hosts", 0, "cert-no-hosts", "info", id="info-exits-0"),
    ],
)
def test_exit_code(
    ca: CA,
    bundle: Path,
    tmp_path: Path,
    kind: str,
    code: int,
    finding_id: str,
    severity: str,
) -> None:
    issued = {
        "expired": lambda: ca.issue(starts=-20 * DAY, lasts=10 * DAY),
        "expiring": lambda: ca.issue(lasts=11 * DAY),
        "no-hosts": lambda: ca.issue(),
    }[kind]()
    cert, key = issued.write(tmp_path, kind)
    config: dict[str, t.Any] = {"ENFORCE_HTTPS_CA_BUNDLE": str(bundle)}
    if kind != "no-hosts":
        config["ENFORCE_HTTPS_HOST"] = "localhost"
    app = create_app(**config)
    result = invoke(
        app.test_cli_runner(), "--certificate", str(cert), "--key", str(key)
    )
    assert result.exit_code == code
    assert f"{severity.upper()} [{finding_id}]" in result.output


def test_no_certificate_and_no_url_is_info(runner: FlaskCliRunner) -> None:
    code, findings = check_json(runner)
    assert (code, findings) == (
        0,
        [
            {
                "id": "cert-none",
                "severity": "info",
                "message": "no certificate was checked",
                "hint": "Pass --certificate or --url, or set"
                " ENFORCE_HTTPS_CERTIFICATE.",
            }
        ],
    )


@pytest.mark.parametrize(
    ("problem", "finding_id"),
    [
        pytest.param(
            "missing-certificate", "cert-unreadable", id="missing-certificate"
        ),
        pytest.param(
            "garbage-certificate", "cert-unreadable", id="garbage-certificate"
        ),
        pytest.param(
            "directory-certificate", "cert-unreadable", id="directory-certificate"
        ),
        pytest.param("missing-key", "key-unreadable", id="missing-key"),
        pytest.param("garbage-key", "key-unreadable", id="garbage-key"),
        pytest.param("missing-bundle", "ca-bundle-unreadable", id="missing-bundle"),
        pytest.param("garbage-bundle", "ca-bundle-unreadable", id="garbage-bundle"),
    ],
)
@pytest.mark.parametrize(
    "fmt",
    [
        pytest.param("text", id="text"),
        pytest.param("json", id="json"),
    ],
)
def test_bad_files_are_findings_not_tracebacks(
    good: tuple[Path, Path],
    bundle: Path,
    tmp_path: Path,
    problem: str,
    finding_id: str,
    fmt: str,
) -> None:
    cert, key = good
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n")
    paths = {"certificate": cert, "key": key, "bundle": bundle}
    what, _, which = problem.partition("-")
    paths[which] = {
        "missing": tmp_path / "missing.pem",
        "garbage": garbage,
        "directory": tmp_path,
    }[what]
    app = create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(paths["certificate"]),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(paths["key"]),
        ENFORCE_HTTPS_CA_BUNDLE=str(paths["bundle"]),
        ENFORCE_HTTPS_HOST="localhost",
    )
    result = invoke(app.test_cli_runner(), "--format", fmt)
    assert result.exit_code == 1
    assert f"[{finding_id}]" in result.output or f'"{finding_id}"' in result.output
    assert str(paths[which]) in result.output


def test_cn_only_is_an_error_even_without_hosts(
    runner: FlaskCliRunner, ca: CA, tmp_path: Path
) -> None:
    cert, _ = ca.issue(common_name="cn-only.example", san=False).write(tmp_path, "cn")
    code, findings = check_json(runner, "--certificate", str(cert))
    assert code == 1
    assert "cert-cn-only" in ids(findings)
    assert "cert-no-hosts" not in ids(findings)


def test_certificate_option_does_not_borrow_the_configured_key(
    ca: CA, tmp_path: Path, good: tuple[Path, Path]
) -> None:
    configured_key = good[1]
    other, _ = ca.issue().write(tmp_path, "other")
    app = create_app(ENFORCE_HTTPS_CERTIFICATE_KEY=str(configured_key))
    _, findings = check_json(app.test_cli_runner(), "--certificate", str(other))
    assert "cert-key-mismatch" not in ids(findings), "the key belongs to another cert"


# --url against a live TLS server --------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        pytest.param("good", [], id="good"),
        pytest.param("expired", ["cert-expired"], id="expired"),
        pytest.param("other-host", ["cert-host-mismatch"], id="other-host"),
        pytest.param("other-ca", ["cert-chain"], id="other-ca"),
        pytest.param("intermediate", [], id="intermediate"),
    ],
)
def test_url_of_a_live_server(
    ca: CA, bundle: Path, tmp_path: Path, served: str, expected: list[str]
) -> None:
    issued = {
        "good": lambda: ca.issue("127.0.0.1", dns=[], ips=["127.0.0.1"]),
        "expired": lambda: ca.issue(starts=-20 * DAY, lasts=10 * DAY),
        "other-host": lambda: ca.issue("shop.example", dns=["shop.example"], ips=[]),
        "other-ca": lambda: CA("Stranger CA").issue(),
        "intermediate": lambda: CA("Check Intermediate", parent=ca).issue(),
    }[served]()
    app = create_app(ENFORCE_HTTPS_CA_BUNDLE=str(bundle))
    with serving_tls(app, *issued.write(tmp_path, "served")) as port:
        url = f"https://127.0.0.1:{port}"
        code, findings = check_json(app.test_cli_runner(), "--url", url)
    errors = [f for f in findings if f["severity"] == "error"]
    for finding_id in expected:
        finding = one(findings, finding_id)
        assert finding["severity"] == "error"
        assert url in finding["message"]
    if served == "other-host":
        assert (
            "does not cover 127.0.0.1 "
            in one(findings, "cert-host-mismatch")["message"]
        )
    if expected:
        assert code == 1
    else:
        assert (code, errors) == (0, [])
        assert "cert-chain" not in ids(findings)


def test_url_checks_the_hostname_options_too(
    ca: CA, bundle: Path, tmp_path: Path
) -> None:
    app = create_app(
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle), ENFORCE_HTTPS_HOST="localhost"
    )
    with serving_tls(app, *ca.issue().write(tmp_path, "served")) as port:
        code, findings = check_json(
            app.test_cli_runner(),
            "--url",
            f"https://127.0.0.1:{port}",
            "--hostname",
            "localhost",
            "--hostname",
            "shop.example.com",
        )
    assert (code, ids(findings)) == (1, ["url-certificate", "cert-host-mismatch"])
    assert "does not cover shop.example.com " in findings[1]["message"]


def test_url_and_certificate_together(ca: CA, bundle: Path, tmp_path: Path) -> None:
    cert, key = ca.issue(starts=-20 * DAY, lasts=10 * DAY).write(tmp_path, "file")
    app = create_app(
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle), ENFORCE_HTTPS_HOST="localhost"
    )
    with serving_tls(app, *ca.issue().write(tmp_path, "served")) as port:
        code, findings = check_json(
            app.test_cli_runner(),
            "--certificate",
            str(cert),
            "--key",
            str(key),
            "--hostname",
            "localhost",
            "--url",
            f"https://127.0.0.1:{port}",
        )
    assert (code, ids(findings)) == (1, ["cert-expired", "url-certificate"])
    assert str(cert) in findings[0]["message"]


def test_url_nothing_listening(runner: FlaskCliRunner) -> None:
    url = f"https://127.0.0.1:{closed_port()}"
    code, findings = check_json(runner, "--url", url)
    assert (code, ids(findings)) == (1, ["url-unreachable"])
    assert findings[0]["severity"] == "error"
    assert url in findings[0]["message"]


def test_url_plain_http_server_is_unreachable_not_a_traceback(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with serving(app) as port:
        code, findings = check_json(runner, "--url", f"https://127.0.0.1:{port}")
    assert (code, ids(findings)) == (1, ["url-unreachable"])


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8443", id="http"),
        pytest.param("https://", id="no-host"),
        pytest.param("127.0.0.1", id="no-scheme"),
    ],
)
@pytest.mark.parametrize(
    "fmt",
    [
        pytest.param("text", id="text"),
        pytest.param("json", id="json"),
    ],
)
def test_url_invalid(runner: FlaskCliRunner, url: str, fmt: str) -> None:
    result = invoke(runner, "--format", fmt, "--url", url)
    assert result.exit_code == 1
    assert "url-invalid" in result.output
    assert url in result.output


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://127.0.0.1:99999", id="port-out-of-range"),
        pytest.param("https://[::1", id="unclosed-bracket"),
        pytest.param("https://:443", id="no-host"),
    ],
)
def test_malformed_url_is_url_invalid(runner: FlaskCliRunner, url: str) -> None:
    code, findings = check_json(runner, "--url", url)
    assert code == 1
    assert one(findings, "url-invalid")["severity"] == "error"


# Deploy findings -----------------------------------------------------------

HSTS_PRELOAD = {
    "hsts": True,
    "hsts_preload": True,
    "hsts_include_subdomains": True,
    "hsts_max_age": 31536000,
    "force_https_integrations": True,
    "secure_cookies": True,
}


def env(**changes: t.Any) -> dict[str, t.Any]:
    """Settings with an ``environment`` table of ``changes``."""
    return {"environment": changes}


def preload(**changes: t.Any) -> dict[str, t.Any]:
    """Settings with a complete HSTS preload, but for ``changes``."""
    return env(**{**HSTS_PRELOAD, **changes})


@pytest.mark.parametrize(
    ("settings", "config", "finding_id", "present"),
    [
        pytest.param(
            preload(hsts_max_age=86400),
            {},
            "hsts-preload-max-age",
            True,
            id="preload-max-age-one-day",
        ),
        pytest.param(
            preload(hsts_max_age=31535999),
            {},
            "hsts-preload-max-age",
            True,
            id="preload-max-age-a-second-short",
        ),
        pytest.param(
            preload(), {}, "hsts-preload-max-age", False, id="preload-max-age-one-year"
        ),
        pytest.param(
            preload(hsts_max_age=63072000),
            {},
            "hsts-preload-max-age",
            False,
            id="preload-max-age-two-years",
        ),
        pytest.param(
            preload(hsts_max_age=60, hsts_preload=False),
            {},
            "hsts-preload-max-age",
            False,
            id="short-max-age-no-preload",
        ),
        pytest.param(
            preload(hsts_max_age=60, hsts=False),
            {},
            "hsts-preload-max-age",
            False,
            id="short-max-age-hsts-off",
        ),
        pytest.param(
            preload(hsts_include_subdomains=False),
            {},
            "hsts-preload-subdomains",
            True,
            id="preload-without-subdomains",
        ),
        pytest.param(
            preload(),
            {},
            "hsts-preload-subdomains",
            False,
            id="preload-with-subdomains",
        ),
        pytest.param(
            preload(hsts_include_subdomains=False, hsts_preload=False),
            {},
            "hsts-preload-subdomains",
            False,
            id="no-preload-no-subdomains",
        ),
        pytest.param(
            env(hsts=True),
            {},
            "hsts-integrations-http",
            True,
            id="hsts-integrations-http",
        ),
        pytest.param(
            env(hsts=True, force_https_integrations=True),
            {},
            "hsts-integrations-http",
            False,
            id="hsts-integrations-forced",
        ),
        pytest.param(
            {
                "environment": {"hsts": True},
                "applications": {"shop": {"force_https_integrations": True}},
            },
            {},
            "hsts-integrations-http",
            False,
            id="hsts-integrations-forced-for-the-app",
        ),
        pytest.param(
            env(force_https_integrations=False),
            {},
            "hsts-integrations-http",
            False,
            id="integrations-http-no-hsts",
        ),
        pytest.param(
            {"applications": {"blog": {"secure_cookies": True}}},
            {},
            "settings-other-application",
            True,
            id="other-application",
        ),
        pytest.param(
            {
                "applications": {
                    "blog": {"secure_cookies": True},
                    "wiki": {"secure_cookies": True},
                }
            },
            {},
            "settings-other-application",
            False,
            id="two-other-applications",
        ),
        pytest.param(
            {
                "applications": {
                    "blog": {"secure_cookies": True},
                    "shop": {"secure_cookies": True},
                }
            },
            {},
            "settings-other-application",
            False,
            id="other-and-this-application",
        ),
        pytest.param(
            {"applications": {"shop": {"secure_cookies": True}}},
            {},
            "settings-other-application",
            False,
            id="this-application",
        ),
        pytest.param(
            {"applications": {"blog": {"secure_cookies": True}}},
            {"ENFORCE_HTTPS_APPLICATION": "blog"},
            "settings-other-application",
            False,
            id="application-renamed",
        ),
        pytest.param(
            env(secure_cookies=True),
            {},
            "settings-other-application",
            False,
            id="no-applications",
        ),
    ],
)
def test_deploy_finding(runner: FlaskCliRunner, finding_id: str, present: bool) -> None:
    code, findings = check_json(runner)
    found = [f for f in findings if f["id"] == finding_id]
    if present:
        assert [f["severity"] for f in found] == [SEVERITY_OF[finding_id]]
    else:
        assert found == []
    assert code == 0  # warnings only
    assert "cert-none" in ids(findings)


def listed(message: str) -> list[str]:
    """The names listed after the last ': ' of ``message``."""
    return message.rpartition(": ")[2].split(", ")


@pytest.mark.settings(env(hsts=True))
def test_hsts_integrations_http_names_them(runner: FlaskCliRunner) -> None:
    _, findings = check_json(runner)
    message = one(findings, "hsts-integrations-http")["message"]
    # /api/status is endpoint "status", /soap/open is endpoint "soap_open".
    assert listed(message) == ["soap_open", "status"]


# The session cookie: the test app's is Secure unless a test unsets it.

NOT_SECURE = {"ENFORCE_HTTPS_HOST": "localhost", "SESSION_COOKIE_SECURE": False}
LEAK = "cookies-leak-to-http-screens"


def cookie_ids(findings: list[dict[str, str]]) -> list[str]:
    """The ids of the cookie findings among ``findings``."""
    return [i for i in ids(findings) if i.startswith("cookies-")]


@pytest.mark.parametrize(
    ("settings", "config", "expected"),
    [
        pytest.param(
            env(force_https_screens=True),
            NOT_SECURE,
            ["cookies-not-secure"],
            id="screens-forced",
        ),
        pytest.param(
            {"applications": {"shop": {"force_https_screens": True}}},
            NOT_SECURE,
            ["cookies-not-secure"],
            id="app-screens-forced",
        ),
        pytest.param(env(hsts=True), NOT_SECURE, ["cookies-not-secure"], id="hsts"),
        pytest.param(
            env(force_https_screens=True, secure_cookies=True),
            NOT_SECURE,
            [],
            id="screens-forced-secure-cookies",
        ),
        pytest.param(
            {
                "environment": {"force_https_screens": True},
                "applications": {"shop": {"secure_cookies": True}},
            },
            NOT_SECURE,
            [],
            id="screens-forced-app-secure-cookies",
        ),
        pytest.param(
            env(force_https_screens=True),
            {"SESSION_COOKIE_SECURE": True},
            [],
            id="screens-forced-session-cookie-secure",
        ),
        # TLS screens (/secure, /account/) beside plain-HTTP ones (/, /page).
        pytest.param({}, NOT_SECURE, [LEAK], id="http-screens-cookie-not-secure"),
        pytest.param(
            {}, {"SESSION_COOKIE_SECURE": True}, [], id="http-screens-cookie-secure"
        ),
        pytest.param(
            env(secure_cookies=True), NOT_SECURE, [], id="http-screens-secure-cookies"
        ),
        pytest.param(
            {"applications": {"shop": {"secure_cookies": True}}},
            NOT_SECURE,
            [],
            id="http-screens-app-secure-cookies",
        ),
        pytest.param(
            {"applications": {"blog": {"secure_cookies": True}}},
            NOT_SECURE,
            [LEAK],
            id="http-screens-other-app-secure-cookies",
        ),
        pytest.param(
            # Exempt paths never lower a design-time TLS screen.
            env(exempt_paths=["/secure", "/account/"]),
            NOT_SECURE,
            [LEAK],
            id="exempt-tls-screens-still-set-cookies",
        ),
    ],
)
def test_cookie_findings(runner: FlaskCliRunner, expected: list[str]) -> None:
    code, findings = check_json(runner)
    assert cookie_ids(findings) == expected
    for finding in findings:
        if finding["id"].startswith("cookies-"):
            assert finding["severity"] == "warning"
            assert "SESSION_COOKIE_SECURE false" in finding["message"]
    assert code == 0  # warnings only


@pytest.mark.config(**NOT_SECURE)
def test_cookies_leak_names_the_http_screens(runner: FlaskCliRunner) -> None:
    _, findings = check_json(runner)
    message = one(findings, LEAK)["message"]
    assert message.startswith("the session cookie is not marked Secure")
    assert "in cleartext" in message
    names = listed(message)
    assert names == sorted(names)
    assert {"home", "page", "healthz", "cookies", "own_hsts"} <= set(names)
    assert "account.help_page" in names
    assert "static" not in names
    assert not {"secure", "account.login", "account.account_home"} & set(names)
    assert not {"orders", "status", "soap", "soap_open", "partner"} & set(names)


@pytest.mark.config(**NOT_SECURE)
def test_cookies_leak_in_text(runner: FlaskCliRunner) -> None:
    result = invoke(runner)
    assert result.exit_code == 0
    assert f"WARNING [{LEAK}] the session cookie is not marked Secure" in result.output
    assert (
        "    hint: Set SESSION_COOKIE_SECURE = True, or secure_cookies = true:"
        " browsers then send the session cookie over HTTPS only.\n"
    ) in result.output
    assert result.output.splitlines()[-1] == "0 errors, 1 warning, 1 info"


@pytest.mark.config(**NOT_SECURE)
@pytest.mark.settings(env(force_https_screens=True))
def test_cookies_not_secure_says_the_redirected_request_carries_it(
    runner: FlaskCliRunner,
) -> None:
    _, findings = check_json(runner)
    message = one(findings, "cookies-not-secure")["message"]
    assert message == (
        "screens are forced to HTTPS, but the session cookie is not marked Secure"
        " (secure_cookies off, SESSION_COOKIE_SECURE false): browsers still send"
        " it in cleartext with any plain-HTTP request to this host, before the"
        " redirect"
    )


@pytest.mark.config(**NOT_SECURE)
@pytest.mark.settings(env(exempt_paths=["/healthz"]))
def test_exempt_screens_served_over_http_get_the_cookie_too(
    runner: FlaskCliRunner,
) -> None:
    # An exempt screen is served over plain HTTP like any open one: a
    # cookie without Secure reaches it.
    _, findings = check_json(runner)
    names = listed(one(findings, LEAK)["message"])
    assert "home" in names
    assert "healthz" in names


def test_no_finding_advises_against_secure_cookies() -> None:
    # Secure cookies are right even while screens serve plain HTTP.
    assert "cookies-secure-http-screens" not in {c.id for c in deploy.registered()}
    assert "cookies-secure-http-screens" not in documented()


@pytest.mark.settings({"applications": {"blog": {"secure_cookies": True}}})
def test_settings_other_application_names_both(runner: FlaskCliRunner) -> None:
    _, findings = check_json(runner)
    message = one(findings, "settings-other-application")["message"]
    assert "'blog'" in message
    assert "'shop'" in message


def test_no_deploy_findings_by_default(runner: FlaskCliRunner) -> None:
    result = invoke(runner)
    assert result.output.splitlines()[-1] == "0 errors, 0 warnings, 1 info"


@pytest.mark.settings(preload(hsts_max_age=60, hsts_include_subdomains=False))
def test_deploy_warnings_in_text(runner: FlaskCliRunner) -> None:
    result = invoke(runner)
    assert result.exit_code == 0
    assert "WARNING [hsts-preload-max-age] " in result.output
    assert "WARNING [hsts-preload-subdomains] " in result.output
    assert result.output.splitlines()[-1] == "0 errors, 2 warnings, 1 info"


def test_client_ca_missing_is_refused_at_init() -> None:
    with pytest.raises(ConfigurationError) as raised:
        create_app(ENFORCE_HTTPS_CLIENT_CA=None)
    assert raised.value.key == "ENFORCE_HTTPS_CLIENT_CA"
    assert "ENFORCE_HTTPS_CLIENT_CA" in str(raised.value)
    assert "'partner'" in str(raised.value)


# Start-up logging -----------------------------------------------------------


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """The records of logger ``flask_enforce_https`` at ``level``."""
    return [
        r
        for r in caplog.records
        if r.name == "flask_enforce_https" and r.levelno == level
    ]


def test_expired_certificate_logged_at_start(
    caplog: pytest.LogCaptureFixture, expired: tuple[Path, Path]
) -> None:
    caplog.set_level(logging.INFO, logger="flask_enforce_https")
    app = create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(expired[0]), ENFORCE_HTTPS_HOST="localhost"
    )
    assert app.extensions["enforce_https"] is not None
    errors = records(caplog, logging.ERROR)
    assert any("cert-expired" in r.getMessage() for r in errors), caplog.text
    assert any(str(expired[0]) in r.getMessage() for r in errors)


def test_good_certificate_logs_no_error(
    caplog: pytest.LogCaptureFixture, good: tuple[Path, Path], bundle: Path
) -> None:
    caplog.set_level(logging.INFO, logger="flask_enforce_https")
    cert, key = good
    create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(key),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
        ENFORCE_HTTPS_HOST="localhost",
    )
    assert records(caplog, logging.ERROR) == []
    assert records(caplog, logging.WARNING) == []


def test_expiring_certificate_logged_as_warning(
    caplog: pytest.LogCaptureFixture, ca: CA, bundle: Path, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="flask_enforce_https")
    cert, key = ca.issue(lasts=11 * DAY).write(tmp_path, "soon")
    create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(key),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
        ENFORCE_HTTPS_HOST="localhost",
    )
    assert records(caplog, logging.ERROR) == []
    warnings = records(caplog, logging.WARNING)
    assert [("cert-expiring" in r.getMessage()) for r in warnings] == [True]


def test_info_findings_are_not_logged(
    caplog: pytest.LogCaptureFixture, good: tuple[Path, Path], bundle: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_enforce_https")
    cert, key = good
    create_app(  # no host: cert-no-hosts, an info
        ENFORCE_HTTPS_CERTIFICATE=str(cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(key),
        ENFORCE_HTTPS_CA_BUNDLE=str(bundle),
    )
    assert not any("cert-no-hosts" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "problem",
    [
        pytest.param("missing", id="missing-file"),
        pytest.param("garbage", id="not-a-certificate"),
    ],
)
def test_unreadable_certificate_logged_not_raised(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, problem: str
) -> None:
    caplog.set_level(logging.INFO, logger="flask_enforce_https")
    path = tmp_path / "server.crt"
    if problem == "garbage":
        path.write_text("not a certificate\n")
    create_app(ENFORCE_HTTPS_CERTIFICATE=str(path), ENFORCE_HTTPS_HOST="localhost")
    errors = records(caplog, logging.ERROR)
    assert [("cert-unreadable" in r.getMessage()) for r in errors] == [True]
    assert str(path) in errors[0].getMessage()


def test_no_certificate_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_enforce_https")
    create_app(ENFORCE_HTTPS_HOST="localhost")
    assert [r for r in caplog.records if r.name == "flask_enforce_https"] == []


# Certificates cryptography cannot fully process ----------------------------


@pytest.fixture
def unprocessable(ca: CA, tmp_path: Path) -> Path:
    """A certificate for localhost with its SAN extension twice."""
    path = tmp_path / "duplicate-san.crt"
    path.write_bytes(der.resigned(ca.issue(), ca, der.duplicate_last_extension))
    return path


def test_unprocessable_certificate_logged_at_start_not_raised(
    caplog: pytest.LogCaptureFixture, unprocessable: Path
) -> None:
    caplog.set_level(logging.INFO, logger="flask_enforce_https")
    app = create_app(
        ENFORCE_HTTPS_CERTIFICATE=str(unprocessable), ENFORCE_HTTPS_HOST="localhost"
    )
    assert app.test_client().get("https://localhost/").status_code == 200
    errors = [r.getMessage() for r in records(caplog, logging.ERROR)]
    assert len(errors) == 1
    assert "[cert-unsupported]" in errors[0]
    assert str(unprocessable) in errors[0]


def test_unprocessable_certificate_is_an_error_finding(
    runner: FlaskCliRunner, unprocessable: Path
) -> None:
    code, findings = check_json(runner, "--certificate", str(unprocessable))
    assert (code, ids(findings)) == (1, ["cert-unsupported"])
    assert "Duplicate 2.5.29.17 extension" in findings[0]["message"]


# The redirect host ---------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "settings", "warned"),
    [
        pytest.param({}, {}, True, id="nothing-pins"),
        pytest.param({"ENFORCE_HTTPS_HOST": "shop.example"}, {}, False, id="host"),
        pytest.param({"TRUSTED_HOSTS": ["shop.example"]}, {}, False, id="trusted"),
        pytest.param({"SERVER_NAME": "shop.example"}, {}, False, id="server-name"),
        pytest.param(
            {"ENFORCE_HTTPS_DEFAULT_SECURITY": "tls"},
            {},
            True,
            id="default-tls",
        ),
        pytest.param(
            {},
            # Exempt from the administrator's forcing only: still redirected.
            {"environment": {"exempt_paths": ["/secure", "/account/"]}},
            True,
            id="exempt-design-tls-still-redirected",
        ),
    ],
)
def test_redirect_host_unpinned(
    ca: CA, config: dict[str, t.Any], settings: t.Any, warned: bool
) -> None:
    app = create_app(settings, **config)
    code, findings = check_json(app.test_cli_runner())
    found = [f for f in findings if f["id"] == "redirect-host-unpinned"]
    assert [f["severity"] for f in found] == (["warning"] if warned else [])
    assert code == 0
    if warned:
        assert "a 301 redirect takes its host from the request" in found[0]["message"]
        assert (
            listed(found[0]["message"])[-3:]
            == [
                "account.account_home",
                "account.login",
                "secure",
            ]
            or "URLs that match no rule" in found[0]["message"]
        )


@pytest.mark.parametrize(
    "matching",
    [
        pytest.param({"subdomain_matching": True}, id="subdomain-matching"),
        pytest.param({"host_matching": True, "static_host": "shop.example"}, id="host"),
    ],
)
def test_server_name_does_not_pin_with_host_matching(
    matching: dict[str, t.Any],
) -> None:
    app = Flask("matching", **matching)
    app.config["SERVER_NAME"] = "shop.example"
    https.init_app(app)
    app.add_url_rule("/secure", "secure", https.screen("tls")(lambda: "s"))
    _, findings = check_json(app.test_cli_runner())
    assert "redirect-host-unpinned" in ids(findings)


# ProxyFix ------------------------------------------------------------------


def trusting(*proxies: str) -> dict[str, t.Any]:
    return {"environment": {"trusted_proxies": list(proxies)}}


@pytest.mark.parametrize(
    ("settings", "counts", "before_init", "expected", "position"),
    [
        pytest.param({}, {"x_proto": 1}, False, ["error", "warning"], "in front of",
                     id="front-proto-untrusted"),
        pytest.param({}, {"x_host": 1}, True, ["error", "warning"], "behind",
                     id="behind-host-untrusted"),
        pytest.param(trusting("10.0.0.1"), {"x_proto": 1}, False, ["warning"],
                     "in front of", id="front-proto-trusted"),
        pytest.param({}, {"x_for": 1}, False, ["warning"], "in front of",
                     id="front-for-only"),
        pytest.param({}, {"x_for": 1, "x_prefix": 1}, True, ["warning"], "behind",
                     id="behind-for-prefix"),
    ],
)  # fmt: skip
def test_proxyfix_findings(
    settings: t.Any,
    counts: dict[str, int],
    before_init: bool,
    expected: list[str],
    position: str,
) -> None:
    app = Flask("shop")
    app.config.update(ENFORCE_HTTPS_SETTINGS=settings, ENFORCE_HTTPS_HOST="localhost")
    app.add_url_rule("/", "home", lambda: "home")
    defaults = {"x_for": 0, "x_proto": 0, "x_host": 0, "x_port": 0, "x_prefix": 0}
    if before_init:  # the extension's middleware wraps ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, **{**defaults, **counts})  # type: ignore[method-assign]
    https.init_app(app)
    if not before_init:  # ProxyFix runs first
        app.wsgi_app = ProxyFix(app.wsgi_app, **{**defaults, **counts})  # type: ignore[method-assign]
    code, findings = check_json(app.test_cli_runner())
    found = [f for f in findings if f["id"].startswith("proxyfix-")]
    assert [f["severity"] for f in found] == expected
    assert code == (1 if "error" in expected else 0)
    for finding in found:
        assert f"is {position} the extension" in finding["message"]
    described = ", ".join(f"{name}=1" for name in counts)
    assert f"ProxyFix({described})" in found[-1]["message"]
    if "error" in expected:
        assert one(findings, "proxyfix-no-trusted-proxies")["message"].endswith(
            "(screens that need TLS redirect in a loop, integrations are refused)"
        )


def test_no_proxyfix_no_finding(runner: FlaskCliRunner) -> None:
    _, findings = check_json(runner)
    assert not [f for f in findings if f["id"].startswith("proxyfix-")]


def test_proxyfix_chain_with_a_cycle_ends() -> None:
    class Loop:
        def __init__(self) -> None:
            self.app: object = self

    app = Flask("shop")
    https.init_app(app)
    app.wsgi_app = ProxyFix(Loop())  # type: ignore[method-assign, arg-type]
    _, findings = check_json(app.test_cli_runner())
    assert "proxyfix-ignored" in ids(findings)


# The registry and the documented table -------------------------------------

DOCS = Path(__file__).parent.parent / "docs" / "certificates.rst"


def documented() -> dict[str, str]:
    """The ids of the findings table in docs/certificates.rst, with their
    severities."""
    rows = re.findall(
        r"^   \* - ``([a-z0-9-]+)``\n     - (error|warning|info)$",
        DOCS.read_text(),
        re.MULTILINE,
    )
    return dict(rows)


def test_every_registered_check_is_documented() -> None:
    table = documented()
    registered = {c.id: c.severity for c in deploy.registered()}
    assert registered, "no deploy check registered"
    for check_id, severity in registered.items():
        assert table.get(check_id) == severity, check_id


def test_every_documented_id_is_a_check_or_a_certificate_id() -> None:
    registered = {c.id for c in deploy.registered()}
    assert not registered & findings.CERTIFICATE_IDS
    assert set(documented()) == registered | findings.CERTIFICATE_IDS


def test_one_check_per_id() -> None:
    with pytest.raises(ValueError, match="already registered"):
        deploy.register("client-ca-missing", "error", "hint")(lambda context: None)


def test_each_id_constant_is_registered() -> None:
    constants = {
        value
        for module in (deploy.hsts, deploy.cookies, deploy.application,
                       deploy.hosts, deploy.proxies, deploy.declared,
                       deploy.exempt, deploy.handlers)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and "-" in value
    }  # fmt: skip
    assert constants == {c.id for c in deploy.registered()}
