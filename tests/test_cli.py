"""The ``flask https`` CLI: show, explain, set, unset and history.

``show`` lists every URL rule with its design-time and effective level and
why; ``explain`` runs the request hook's own decision on one URL; ``set`` and
``unset`` change the settings file atomically, keeping its comments, after
validating with the load schema, and append one JSON line per changed key to
the audit log that ``history`` prints. Apps whose settings are a file follow a
change without restart: ``ENFORCE_HTTPS_RELOAD_INTERVAL=0`` makes every
request check the file, so no test waits for a reload.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
import tomllib
import typing as t
from pathlib import Path

import pytest
from clirun import run
from conftest import create_app
from flask import Flask
from flask.testing import FlaskCliRunner

import flask_enforce_https.cli

SETTINGS_TOML = """\
# Environment-wide HTTPS settings
[environment]
hsts = false  # on after the rollout
exempt_paths = ["/healthz"]

[applications.shop]
secure_cookies = true
"""
SETTINGS_DOCUMENT: dict[str, t.Any] = {
    "environment": {"hsts": False, "exempt_paths": ["/healthz"]},
    "applications": {"shop": {"secure_cookies": True}},
}
ROW_KEYS = {
    "application",
    "endpoint",
    "rule",
    "methods",
    "kind",
    "design",
    "effective",
    "reasons",
    "hsts",
    "exempt",
}
AUDIT_KEYS = {
    "time",
    "user",
    "scope",
    "key",
    "old",
    "new",
    "revision",
    "reason",
    "origin",
    "version_before",
    "version",
}
HSTS_VALUE = "max-age=31536000"
SHOP = "http://shop.example.com"
SHOP_TLS = "https://shop.example.com"
EXPLAIN_SETTINGS: dict[str, t.Any] = {
    "environment": {
        "hsts": True,
        "trusted_proxies": ["10.0.0.0/8"],
        "exempt_paths": ["/healthz"],
    }
}
WIDTH = 100


# -- helpers ----------------------------------------------------------------


def show_rows(runner: FlaskCliRunner) -> dict[str, dict[str, t.Any]]:
    """The rows of ``show --format json``, by rule."""
    result = run(runner, "show", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_rule = {row["rule"]: row for row in rows}
    assert len(by_rule) == len(rows)
    return by_rule


def explain(runner: FlaskCliRunner, url: str, *options: str) -> dict[str, t.Any]:
    """The result of ``explain URL OPTIONS --format json``."""
    result = run(runner, "explain", url, *options, "--format", "json")
    assert result.exit_code == 0, result.output
    return t.cast("dict[str, t.Any]", json.loads(result.output))


def fingerprint(path: Path) -> tuple[bytes, int, int]:
    """What any write to ``path`` would change: bytes, mtime and inode."""
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_ino


def audit_path(settings_file: Path) -> Path:
    return settings_file.with_name(settings_file.name + ".audit.jsonl")


def history_of(log: Path) -> list[dict[str, t.Any]]:
    """What ``history --format json`` gives for the lines of a log that
    ``flask https set`` wrote: each line but the file's versions."""
    return [
        {k: v for k, v in entry.items() if k not in ("version_before", "version")}
        for entry in audit_entries(log)
    ]


def audit_entries(log: Path) -> list[dict[str, t.Any]]:
    """The JSON lines of an audit log; none when it does not exist."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text("utf-8").splitlines()]


def load(path: Path) -> dict[str, t.Any]:
    text = path.read_text("utf-8")
    return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)


def header(output: str) -> str:
    """The lines of ``show``'s table before the first blank line."""
    return output.partition("\n\n")[0]


def squeezed(text: str) -> str:
    """``text`` without any whitespace, so that line wrapping does not matter."""
    return "".join(text.split())


# -- fixtures ---------------------------------------------------------------


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS_TOML, "utf-8")
    return path


@pytest.fixture
def file_app(settings_file: Path) -> Flask:
    return create_app(str(settings_file), ENFORCE_HTTPS_RELOAD_INTERVAL=0)


@pytest.fixture
def file_runner(file_app: Flask) -> FlaskCliRunner:
    return file_app.test_cli_runner()


# -- show -------------------------------------------------------------------


def test_show_json_has_one_row_per_rule(
    file_app: Flask, file_runner: FlaskCliRunner
) -> None:
    result = run(file_runner, "show", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert isinstance(rows, list)
    assert sorted((row["endpoint"], row["rule"]) for row in rows) == sorted(
        (rule.endpoint, rule.rule) for rule in file_app.url_map.iter_rules()
    )
    assert "static" in {row["endpoint"] for row in rows}
    for row in rows:
        assert set(row) == ROW_KEYS
        assert row["application"] == "shop"
        assert isinstance(row["reasons"], list)


SHOW_ROWS: list[t.Any] = [
    pytest.param(
        {},
        "/secure",
        {"endpoint": "secure", "kind": "screen", "design": "tls", "effective": "tls"},
        "design-time (view)",
        id="design-time-view",
    ),
    pytest.param(
        {},
        "/account/",
        {"kind": "screen", "design": "tls", "effective": "tls"},
        "design-time (blueprint 'account')",
        id="design-time-blueprint",
    ),
    pytest.param(
        {},
        "/account/help",
        {"kind": "screen", "design": "none", "effective": "none", "reasons": []},
        None,
        id="own-declaration-wins-over-blueprint",
    ),
    pytest.param(
        {},
        "/",
        {"design": "none", "effective": "none", "reasons": []},
        None,
        id="nothing-requires-tls",
    ),
    pytest.param(
        {"environment": {"hsts": True}},
        "/",
        {
            "design": "none",
            "effective": "tls",
            "reasons": ["environment: hsts"],
            "hsts": True,
        },
        None,
        id="environment-hsts",
    ),
    pytest.param(
        {"applications": {"shop": {"force_https_screens": True}}},
        "/",
        {
            "design": "none",
            "effective": "tls",
            "reasons": ["application 'shop': force_https_screens"],
        },
        None,
        id="application-force-https-screens",
    ),
    pytest.param(
        {"applications": {"blog": {"force_https_screens": True}}},
        "/",
        {"effective": "none", "reasons": []},
        None,
        id="another-application-setting-does-not-apply",
    ),
    pytest.param(
        {},
        "/api/orders",
        {
            "kind": "rest",
            "design": "tls",
            "effective": "tls",
            "methods": ["DELETE", "GET", "POST", "PUT"],
        },
        "design-time (view)",
        id="rest-tls",
    ),
    pytest.param(
        {"environment": {"hsts": True}},
        "/api/status",
        {"kind": "rest", "design": "none", "effective": "none", "reasons": []},
        None,
        id="hsts-does-not-force-integrations",
    ),
]


@pytest.mark.parametrize(("settings", "rule", "expected", "reason"), SHOW_ROWS)
def test_show_json_row(
    settings: dict[str, t.Any],
    rule: str,
    expected: dict[str, t.Any],
    reason: str | None,
) -> None:
    row = show_rows(create_app(settings).test_cli_runner())[rule]
    assert {key: row[key] for key in expected} == expected
    if reason is not None:
        assert row["reasons"], row
        assert row["reasons"][0].startswith(reason), row["reasons"]


def test_show_json_methods_leave_out_head_and_options(
    file_runner: FlaskCliRunner,
) -> None:
    rows = show_rows(file_runner)
    for row in rows.values():
        assert "HEAD" not in row["methods"], row
        assert "OPTIONS" not in row["methods"], row
        assert row["methods"] == sorted(row["methods"])
    assert rows["/secure"]["methods"] == ["DELETE", "GET", "PATCH", "POST", "PUT"]
    assert rows["/"]["methods"] == ["GET"]
    assert rows["/soap"]["methods"] == ["POST"]


@pytest.mark.parametrize(
    ("exempt_paths", "exempt_rules"),
    [
        pytest.param(["/healthz"], {"/healthz"}, id="exact"),
        pytest.param(["/soap"], {"/soap"}, id="exact-not-prefix"),
        pytest.param(
            ["/account/"],
            {"/account/", "/account/login", "/account/help"},
            id="prefix",
        ),
        pytest.param(["/static/"], {"/static/<path:filename>"}, id="prefix-converter"),
        pytest.param([], set(), id="none"),
    ],
)
def test_show_json_exempt(exempt_paths: list[str], exempt_rules: set[str]) -> None:
    settings = {"environment": {"exempt_paths": exempt_paths}}
    rows = show_rows(create_app(settings).test_cli_runner())
    assert {rule for rule, row in rows.items() if row["exempt"]} == exempt_rules


@pytest.mark.parametrize("hsts", [pytest.param(True, id="on"), False])
def test_show_json_hsts_iff_environment_enables_it(hsts: bool) -> None:
    settings = {
        "environment": {"hsts": hsts},
        "applications": {"shop": {"force_https_screens": True}},
    }
    rows = show_rows(create_app(settings).test_cli_runner())
    assert {row["hsts"] for row in rows.values()} == {hsts}


def test_show_table_heads_with_the_settings_file(settings_file: Path) -> None:
    settings_file.write_text(
        SETTINGS_TOML.replace(
            "hsts = false",
            'hsts = true\nhsts_excluded_hosts = ["localhost", "dev.example.com"]\n'
            'trusted_proxies = ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12",'
            ' "127.0.0.1", "::1", "fd00::/8", "100.64.0.0/10"]',
        ),
        "utf-8",
    )
    before = int(time.time())
    app = create_app(str(settings_file), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    after = time.time()
    result = run(app.test_cli_runner(), "show")
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        assert len(line) <= WIDTH, line
    assert str(settings_file) in header(result.output)
    head = squeezed(header(result.output))
    assert squeezed(f"Settings: {settings_file} (ok; loaded ") in head
    loaded = re.search(r"loaded(\d{4}-\d\d-\d\d)(\d\d:\d\d:\d\d)UTC\)", head)
    assert loaded is not None, head
    moment = datetime.datetime.strptime(
        f"{loaded[1]} {loaded[2]}", "%Y-%m-%d %H:%M:%S"
    ).replace(tzinfo=datetime.timezone.utc)
    assert before <= moment.timestamp() <= after
    assert squeezed(f"HSTS: {HSTS_VALUE}") in head
    body = result.output.partition("\n\n")[2]
    assert "why: design-time (blueprint 'account')" in body
    assert "why: environment: hsts" in body
    for rule in app.url_map.iter_rules():
        assert rule.endpoint[:19] in body


def test_show_table_says_stale_after_a_bad_reload(
    file_app: Flask, file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    client = file_app.test_client()
    result = run(file_runner, "show")
    assert result.exit_code == 0, result.output
    assert squeezed(f"Settings: {settings_file} (ok;") in squeezed(
        header(result.output)
    )

    # The broken version would turn HSTS on and drop the exemption.
    settings_file.write_text("[environment]\nhsts = true\nexempt_paths = [\n", "utf-8")
    assert client.get("/").status_code == 200  # the app checks the file now

    result = run(file_runner, "show")
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines():
        assert len(line) <= WIDTH, line
    head = header(result.output)
    assert squeezed(f"Settings: {settings_file} (stale") in squeezed(head)
    assert "(ok;" not in head
    assert "HSTS: off" in head
    rows = show_rows(file_runner)
    assert rows["/healthz"]["exempt"] is True
    assert rows["/"]["effective"] == "none"
    assert {row["hsts"] for row in rows.values()} == {False}
    assert client.get("/").status_code == 200

    # Fixed, it is applied and the state is "ok" again.
    settings_file.write_text("[environment]\nhsts = true\n", "utf-8")
    assert client.get("/").status_code == 301
    result = run(file_runner, "show")
    assert squeezed(f"Settings: {settings_file} (ok;") in squeezed(
        header(result.output)
    )
    assert show_rows(file_runner)["/healthz"]["exempt"] is False


def test_show_table_names_the_mapping() -> None:
    app = create_app({"environment": {"hsts": True}})
    result = run(app.test_cli_runner(), "show")
    assert result.exit_code == 0, result.output
    head = header(result.output)
    settings_line = next(
        line for line in head.splitlines() if line.startswith("Settings:")
    )
    assert "ENFORCE_HTTPS_SETTINGS" in settings_line
    assert "mapping" in settings_line
    assert "(ok;" in settings_line
    assert f"HSTS: {HSTS_VALUE}" in head
    for line in result.output.splitlines():
        assert len(line) <= WIDTH, line


# -- explain ----------------------------------------------------------------


@pytest.fixture
def explain_runner() -> FlaskCliRunner:
    return create_app(EXPLAIN_SETTINGS).test_cli_runner()


EXPLANATIONS: list[t.Any] = [
    pytest.param(
        f"{SHOP}/account/?x=%2F",
        [],
        "redirected",
        301,
        f"{SHOP_TLS}/account/?x=%2F",
        None,
        id="get-redirected-301",
    ),
    pytest.param(
        f"{SHOP}/secure",
        ["-X", "POST"],
        "redirected",
        308,
        f"{SHOP_TLS}/secure",
        None,
        id="post-redirected-308",
    ),
    pytest.param(
        f"{SHOP}/api/orders", [], "rejected", 403, None, None, id="rest-rejected"
    ),
    pytest.param(
        f"{SHOP}/soap", ["-X", "POST"], "rejected", 403, None, None, id="soap-rejected"
    ),
    pytest.param(
        f"{SHOP_TLS}/secure", [], "served", None, None, HSTS_VALUE, id="https-hsts"
    ),
    pytest.param(
        "https://localhost/secure",
        [],
        "served",
        None,
        None,
        None,
        id="https-localhost-no-hsts",
    ),
    pytest.param(
        f"{SHOP}/api/status", [], "served", None, None, None, id="nothing-requires"
    ),
    pytest.param(
        f"{SHOP}/secure",
        ["--remote-addr", "10.0.0.5", "-H", "X-Forwarded-Proto: https"],
        "served",
        None,
        None,
        HSTS_VALUE,
        id="forwarded-by-trusted-proxy",
    ),
    pytest.param(
        f"{SHOP}/secure",
        ["--remote-addr", "192.0.2.5", "-H", "X-Forwarded-Proto: https"],
        "redirected",
        301,
        f"{SHOP_TLS}/secure",
        None,
        id="forwarded-by-untrusted-address",
    ),
    pytest.param(
        f"{SHOP}/secure",
        ["-H", "Host: a@b"],
        "rejected",
        400,
        None,
        None,
        id="bad-host",
    ),
]


@pytest.mark.parametrize(
    ("url", "options", "outcome", "status", "location", "hsts"), EXPLANATIONS
)
def test_explain(
    explain_runner: FlaskCliRunner,
    url: str,
    options: list[str],
    outcome: str,
    status: int | None,
    location: str | None,
    hsts: str | None,
) -> None:
    result = explain(explain_runner, url, *options)
    assert result["outcome"] == outcome
    assert result["status"] == status
    assert result["location"] == location
    assert result["hsts"] == hsts
    assert result["reasons"]


def test_explain_exempt_path_is_served_and_says_why(
    explain_runner: FlaskCliRunner,
) -> None:
    result = explain(explain_runner, f"{SHOP}/healthz")
    # Exempt from what the administrator forced: in force is the design's.
    assert result["effective"] == "none"
    assert result["outcome"] == "served"
    assert result["status"] is None
    assert any("exempt" in reason for reason in result["reasons"]), result


def test_explain_bad_host_says_why(explain_runner: FlaskCliRunner) -> None:
    result = explain(explain_runner, f"{SHOP}/secure", "-H", "Host: a@b")
    assert "a@b" in result["reasons"][0]


def test_explain_text(explain_runner: FlaskCliRunner) -> None:
    result = run(explain_runner, "explain", f"{SHOP}/account/?x=%2F")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"GET {SHOP}/account/?x=%2F"
    text = result.output
    assert f"redirected 301 to {SHOP_TLS}/account/?x=%2F" in text
    assert "design-time (blueprint 'account')" in text
    assert "not sent" in text

    result = run(explain_runner, "explain", f"{SHOP_TLS}/secure", "--format", "text")
    assert result.exit_code == 0, result.output
    assert "served" in result.output
    assert HSTS_VALUE in result.output


SAME_AS_REQUESTS: list[t.Any] = [
    pytest.param(f"{SHOP}/account/?x=%2F", "GET", [], "127.0.0.1", id="redirect"),
    pytest.param(f"{SHOP}/secure?a=1&b=%20", "POST", [], "127.0.0.1", id="post"),
    pytest.param(f"{SHOP}/secure", "PATCH", [], "127.0.0.1", id="patch"),
    pytest.param(f"{SHOP}:8080/account/login", "GET", [], "127.0.0.1", id="port"),
    pytest.param(f"{SHOP}/api/orders", "DELETE", [], "127.0.0.1", id="rest"),
    pytest.param(f"{SHOP}/api/status", "GET", [], "127.0.0.1", id="rest-open"),
    pytest.param(f"{SHOP}/nowhere", "GET", [], "127.0.0.1", id="unmatched"),
    pytest.param(f"{SHOP}/healthz", "GET", [], "127.0.0.1", id="exempt"),
    pytest.param(f"{SHOP_TLS}/secure", "GET", [], "127.0.0.1", id="https"),
    pytest.param("https://localhost/", "GET", [], "127.0.0.1", id="localhost"),
    pytest.param(
        f"{SHOP}/secure",
        "GET",
        ["X-Forwarded-Proto: https"],
        "10.0.0.5",
        id="trusted-proxy",
    ),
    pytest.param(
        f"{SHOP}/secure",
        "GET",
        ["X-Forwarded-Proto: https", "X-Forwarded-Host: www.example.com"],
        "10.0.0.5",
        id="trusted-proxy-host",
    ),
    pytest.param(
        f"{SHOP}/secure",
        "GET",
        ["X-Forwarded-Proto: https"],
        "192.0.2.5",
        id="untrusted-proxy",
    ),
    pytest.param(f"{SHOP}/secure", "GET", ["Host: a@b"], "127.0.0.1", id="bad-host"),
    pytest.param(f"{SHOP}?x=1", "GET", [], "127.0.0.1", id="no-path"),
    pytest.param(f"{SHOP}/account/%7Eme?q=a%26b", "GET", [], "127.0.0.1", id="escapes"),
    pytest.param(f"{SHOP}/caf%C3%A9", "GET", [], "127.0.0.1", id="utf-8-path"),
    pytest.param(f"{SHOP}//evil.example/", "GET", [], "127.0.0.1", id="double-slash"),
]


@pytest.mark.parametrize(("url", "method", "headers", "remote_addr"), SAME_AS_REQUESTS)
def test_explain_says_what_a_request_gets(
    url: str, method: str, headers: list[str], remote_addr: str
) -> None:
    app = create_app(EXPLAIN_SETTINGS)
    options = ["-X", method, "--remote-addr", remote_addr]
    for value in headers:
        options += ["-H", value]
    result = explain(app.test_cli_runner(), url, *options)

    pairs = [tuple(part.strip() for part in h.split(":", 1)) for h in headers]
    response = app.test_client().open(
        url, method=method, headers=pairs, environ_base={"REMOTE_ADDR": remote_addr}
    )
    if result["outcome"] == "served":
        assert response.status_code not in (301, 302, 303, 307, 308, 400, 403)
        assert "Location" not in response.headers
        assert response.headers.get("Strict-Transport-Security") == result["hsts"]
    else:
        assert response.status_code == result["status"]
        assert response.headers.get("Location") == result["location"]
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["ftp://x"], id="ftp"),
        pytest.param(["/secure"], id="relative"),
        pytest.param(["shop.example.com/secure"], id="no-scheme"),
        pytest.param(["http://"], id="no-host"),
        pytest.param(["-H", "nocolon", f"{SHOP}/"], id="header-without-colon"),
        pytest.param(["-H", ": value", f"{SHOP}/"], id="header-without-name"),
    ],
)
def test_explain_bad_input_is_a_usage_error(
    explain_runner: FlaskCliRunner, args: list[str]
) -> None:
    result = run(explain_runner, "explain", *args)
    assert result.exit_code == 2, result.output
    assert "Error" in result.output


# -- set and unset ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["set", "hsts=maybe"], "hsts", id="not-a-bool"),
        pytest.param(["set", "hsts_max_age=-1"], "hsts_max_age", id="negative"),
        pytest.param(
            ["set", "force_http_screens=true"], "force_http_screens", id="unknown-key"
        ),
        pytest.param(
            ["set", "hsts=true", "--application", "shop"],
            "hsts",
            id="environment-only-key",
        ),
        pytest.param(
            ["set", "trusted_proxies=10.0.0.300"], "trusted_proxies", id="bad-network"
        ),
        pytest.param(["set", "exempt_paths=healthz"], "exempt_paths", id="bad-path"),
        pytest.param(["set", "exempt_paths=true"], "exempt_paths", id="bool-for-list"),
        pytest.param(["set", "hsts"], "KEY=VALUE", id="no-value"),
        pytest.param(
            ["set", "force_https_screens=true", "hsts=maybe"],
            "hsts",
            id="one-bad-of-two",
        ),
        pytest.param(
            ["unset", "force_http_screens"], "force_http_screens", id="unset-unknown"
        ),
        pytest.param(
            ["unset", "hsts", "--application", "shop"],
            "hsts",
            id="unset-environment-only",
        ),
    ],
)
def test_bad_change_writes_nothing(
    file_runner: FlaskCliRunner, settings_file: Path, args: list[str], message: str
) -> None:
    before = fingerprint(settings_file)
    result = run(file_runner, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert fingerprint(settings_file) == before
    assert audit_entries(audit_path(settings_file)) == []


@pytest.mark.parametrize(
    ("assignment", "key", "value"),
    [
        pytest.param(
            "trusted_proxies=127.0.0.1,10.0.0.0/8",
            "trusted_proxies",
            ["127.0.0.1", "10.0.0.0/8"],
            id="comma-list",
        ),
        pytest.param(
            'exempt_paths=["/a", "/b/"]', "exempt_paths", ["/a", "/b/"], id="toml-list"
        ),
        pytest.param("exempt_paths=/a", "exempt_paths", ["/a"], id="one-item"),
        pytest.param(
            "hsts_excluded_hosts=localhost, dev.example.com",
            "hsts_excluded_hosts",
            ["localhost", "dev.example.com"],
            id="comma-list-spaces",
        ),
        pytest.param("hsts_max_age=600", "hsts_max_age", 600, id="integer"),
        pytest.param("hsts=true", "hsts", True, id="bool"),
    ],
)
def test_set_values(
    file_runner: FlaskCliRunner,
    settings_file: Path,
    assignment: str,
    key: str,
    value: object,
) -> None:
    result = run(file_runner, "set", assignment)
    assert result.exit_code == 0, result.output
    assert load(settings_file)["environment"][key] == value
    [entry] = audit_entries(audit_path(settings_file))
    assert entry["key"] == key
    assert entry["new"] == value


def test_set_keeps_comments_and_other_keys(
    file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    result = run(file_runner, "set", "hsts=true", "hsts_max_age=600")
    assert result.exit_code == 0, result.output
    lines = settings_file.read_text("utf-8").splitlines()
    assert "# Environment-wide HTTPS settings" in lines
    hsts_line = next(line for line in lines if line.startswith("hsts ="))
    assert hsts_line.startswith("hsts = true")
    assert hsts_line.endswith("# on after the rollout")
    assert load(settings_file) == {
        "environment": {
            "hsts": True,
            "hsts_max_age": 600,
            "exempt_paths": ["/healthz"],
        },
        "applications": {"shop": {"secure_cookies": True}},
    }


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        pytest.param(
            "shop",
            {"shop": {"secure_cookies": True, "force_https_screens": True}},
            id="existing-table",
        ),
        pytest.param(
            "blog",
            {
                "shop": {"secure_cookies": True},
                "blog": {"force_https_screens": True},
            },
            id="new-table",
        ),
    ],
)
def test_set_with_application_changes_its_table(
    file_runner: FlaskCliRunner,
    settings_file: Path,
    application: str,
    expected: dict[str, t.Any],
) -> None:
    result = run(
        file_runner,
        "set",
        "force_https_screens=true",
        "--application",
        application,
        "--new-application",
    )
    assert result.exit_code == 0, result.output
    document = load(settings_file)
    assert document["applications"] == expected
    assert document["environment"] == SETTINGS_DOCUMENT["environment"]
    text = settings_file.read_text("utf-8")
    assert "# Environment-wide HTTPS settings" in text
    assert "# on after the rollout" in text


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        pytest.param(
            "# only an application\n[applications.shop]\nsecure_cookies = true\n",
            ["hsts=true"],
            {
                "applications": {"shop": {"secure_cookies": True}},
                "environment": {"hsts": True},
            },
            id="environment",
        ),
        pytest.param(
            "# only the environment\n[environment]\nhsts = false\n",
            ["secure_cookies=true", "--application", "shop"],
            {
                "environment": {"hsts": False},
                "applications": {"shop": {"secure_cookies": True}},
            },
            id="application",
        ),
    ],
)
def test_set_creates_a_missing_table(
    tmp_path: Path, text: str, args: list[str], expected: dict[str, t.Any]
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text, "utf-8")
    app = create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    result = run(app.test_cli_runner(), "set", *args)
    assert result.exit_code == 0, result.output
    assert load(path) == expected
    assert path.read_text("utf-8").startswith(text.splitlines()[0] + "\n")


@pytest.mark.parametrize(
    "name", [pytest.param("shop.web", id="dot"), pytest.param("my shop", id="space")]
)
def test_set_and_unset_an_application_with_a_quoted_name(
    settings_file: Path, name: str
) -> None:
    # Flask(__name__) in a package module is named like "myproject.app", and
    # that name is the application's [applications."myproject.app"] table.
    app = create_app(
        str(settings_file),
        ENFORCE_HTTPS_APPLICATION=name,
        ENFORCE_HTTPS_RELOAD_INTERVAL=0,
    )
    runner, client = app.test_cli_runner(), app.test_client()
    result = run(runner, "set", "force_https_screens=true", "--application", name)
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 301
    result = run(runner, "set", "secure_cookies=true", "--application", name)
    assert result.exit_code == 0, result.output
    result = run(runner, "unset", "force_https_screens", "--application", name)
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 200
    assert load(settings_file)["applications"] == {
        "shop": {"secure_cookies": True},
        name: {"secure_cookies": True},
    }
    assert [
        (e["scope"], e["key"]) for e in audit_entries(audit_path(settings_file))
    ] == [
        (name, "force_https_screens"),
        (name, "secure_cookies"),
        (name, "force_https_screens"),
    ]


def test_set_keeps_a_json_file_json(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(SETTINGS_DOCUMENT, indent=2), "utf-8")
    app = create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    runner = app.test_cli_runner()
    assert run(runner, "set", "hsts=true").exit_code == 0
    assert (
        run(
            runner,
            "set",
            "force_https_screens=true",
            "--application",
            "blog",
            "--new-application",
        ).exit_code
        == 0
    )
    assert (
        run(runner, "unset", "secure_cookies", "--application", "shop").exit_code == 0
    )
    assert json.loads(path.read_text("utf-8")) == {
        "environment": {"hsts": True, "exempt_paths": ["/healthz"]},
        # unset removes the [applications.shop] table it left empty.
        "applications": {"blog": {"force_https_screens": True}},
    }
    assert [e["key"] for e in audit_entries(audit_path(path))] == [
        "hsts",
        "force_https_screens",
        "secure_cookies",
    ]
    assert app.test_client().get("/", base_url=SHOP).status_code == 301


def test_set_replaces_the_file_atomically(
    file_runner: FlaskCliRunner, settings_file: Path, tmp_path: Path
) -> None:
    settings_file.chmod(0o640)
    before = settings_file.stat()
    result = run(file_runner, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    after = settings_file.stat()
    assert after.st_ino != before.st_ino  # renamed over, not rewritten in place
    assert after.st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "settings.toml",
        "settings.toml.audit.jsonl",
    ]


def test_each_changed_key_appends_one_audit_line(
    file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    log = audit_path(settings_file)
    result = run(file_runner, "set", "hsts=true", "hsts_max_age=600")
    assert result.exit_code == 0, result.output
    result = run(
        file_runner, "set", "force_https_screens=true", "--application", "shop"
    )
    assert result.exit_code == 0, result.output
    result = run(file_runner, "unset", "exempt_paths")
    assert result.exit_code == 0, result.output

    lines = log.read_text("utf-8").splitlines()
    assert len(lines) == 4
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert set(entry) == AUDIT_KEYS
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry["time"]
        ), entry
        moment = datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
        assert moment.utcoffset() == datetime.timedelta(0)
        assert isinstance(entry["user"], str)
        assert entry["user"]
        assert (entry["origin"], entry["reason"]) == ("cli", None)
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["version"]), entry
    # One revision per command that changed something.
    assert [entry["revision"] for entry in entries] == [1, 1, 2, 3]
    assert (
        entries[-1]["version"]
        == "sha256:" + hashlib.sha256(settings_file.read_bytes()).hexdigest()
    )
    # Each revision starts from the version the one before left.
    one, two, three = entries[1], entries[2], entries[3]
    assert entries[0]["version"] == one["version"] == two["version_before"]
    assert two["version"] == three["version_before"]
    assert [
        {key: entry[key] for key in ("scope", "key", "old", "new")} for entry in entries
    ] == [
        {"scope": "environment", "key": "hsts", "old": False, "new": True},
        {"scope": "environment", "key": "hsts_max_age", "old": None, "new": 600},
        {"scope": "shop", "key": "force_https_screens", "old": None, "new": True},
        {
            "scope": "environment",
            "key": "exempt_paths",
            "old": ["/healthz"],
            "new": None,
        },
    ]


def test_audit_log_can_be_configured(settings_file: Path, tmp_path: Path) -> None:
    log = tmp_path / "elsewhere.jsonl"
    app = create_app(
        str(settings_file),
        ENFORCE_HTTPS_RELOAD_INTERVAL=0,
        ENFORCE_HTTPS_AUDIT_LOG=str(log),
    )
    runner = app.test_cli_runner()
    result = run(runner, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    assert not audit_path(settings_file).exists()
    [entry] = audit_entries(log)
    assert (entry["scope"], entry["key"], entry["old"], entry["new"]) == (
        "environment",
        "hsts",
        False,
        True,
    )
    result = run(runner, "history", "--format", "json")
    assert json.loads(result.output) == history_of(log)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["set", "hsts=false"], id="environment"),
        pytest.param(["set", "exempt_paths=/healthz"], id="list"),
        pytest.param(
            ["set", "secure_cookies=true", "--application", "shop"], id="application"
        ),
        pytest.param(["unset", "hsts_preload"], id="unset-absent"),
        pytest.param(
            ["unset", "force_https_screens", "--application", "shop"],
            id="unset-absent-app",
        ),
    ],
)
def test_no_change_writes_nothing(
    file_runner: FlaskCliRunner, settings_file: Path, args: list[str]
) -> None:
    before = fingerprint(settings_file)
    result = run(file_runner, *args)
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert fingerprint(settings_file) == before
    assert audit_entries(audit_path(settings_file)) == []


def test_unset_removes_the_key(
    file_app: Flask, file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    assert show_rows(file_runner)["/healthz"]["exempt"] is True
    result = run(file_runner, "unset", "exempt_paths")
    assert result.exit_code == 0, result.output
    document = load(settings_file)
    assert "exempt_paths" not in document["environment"]
    assert document["environment"] == {"hsts": False}
    assert "exempt_paths" not in settings_file.read_text("utf-8")
    assert "# Environment-wide HTTPS settings" in settings_file.read_text("utf-8")
    assert show_rows(file_runner)["/healthz"]["exempt"] is False

    result = run(file_runner, "unset", "secure_cookies", "--application", "shop")
    assert result.exit_code == 0, result.output
    assert load(settings_file).get("applications", {}).get("shop", {}) == {}


def test_running_app_follows_set(file_app: Flask, file_runner: FlaskCliRunner) -> None:
    client = file_app.test_client()
    assert client.get("/").status_code == 200
    result = run(
        file_runner, "set", "force_https_screens=true", "--application", "shop"
    )
    assert result.exit_code == 0, result.output
    assert file_runner.app is file_app
    response = client.get("/")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/"

    result = run(file_runner, "unset", "force_https_screens", "--application", "shop")
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["set", "hsts=true"], id="set"),
        pytest.param(["unset", "hsts"], id="unset"),
    ],
)
def test_change_needs_a_settings_file(args: list[str]) -> None:
    runner = create_app({"environment": {"hsts": False}}).test_cli_runner()
    result = run(runner, *args)
    assert result.exit_code == 2, result.output
    assert "file" in result.output


def test_set_refuses_an_invalid_file(
    file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    settings_file.write_text("[environment\nhsts = = true\n", "utf-8")
    before = fingerprint(settings_file)
    result = run(file_runner, "set", "hsts=true")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(settings_file) in lines[0]
    assert fingerprint(settings_file) == before
    assert audit_entries(audit_path(settings_file)) == []


# -- history ----------------------------------------------------------------


def test_history_is_empty_without_a_log(
    file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    assert not audit_path(settings_file).exists()
    result = run(file_runner, "history")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ""
    result = run(file_runner, "history", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def test_history_prints_the_changes(
    file_runner: FlaskCliRunner, settings_file: Path
) -> None:
    assert run(file_runner, "set", "hsts=true").exit_code == 0
    assert (
        run(
            file_runner, "set", "force_https_screens=true", "--application", "shop"
        ).exit_code
        == 0
    )
    assert run(file_runner, "unset", "hsts").exit_code == 0

    result = run(file_runner, "history")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert "environment.hsts" in lines[0]
    assert "false -> true" in lines[0]
    assert "shop.force_https_screens" in lines[1]
    assert "null -> true" in lines[1]
    assert "environment.hsts" in lines[2]
    assert "true -> null" in lines[2]

    result = run(file_runner, "history", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == history_of(audit_path(settings_file))


# -- without the extension --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["show"], id="show"),
        pytest.param(["show", "--format", "json"], id="show-json"),
        pytest.param(["explain", f"{SHOP}/"], id="explain"),
        pytest.param(["set", "hsts=true"], id="set"),
        pytest.param(["unset", "hsts"], id="unset"),
        pytest.param(["history"], id="history"),
    ],
)
def test_commands_need_the_extension(args: list[str]) -> None:
    app = Flask("bare")
    app.cli.add_command(flask_enforce_https.cli.https_cli)
    result = run(app.test_cli_runner(), *args)
    assert result.exit_code == 2, result.output
    assert "EnforceHTTPS" in result.output


# -- two applications, one file ---------------------------------------------


@pytest.fixture
def blog(settings_file: Path) -> Flask:
    return create_app(
        str(settings_file),
        ENFORCE_HTTPS_APPLICATION="blog",
        ENFORCE_HTTPS_RELOAD_INTERVAL=0,
    )


def test_application_key_changes_only_that_application(
    file_app: Flask, file_runner: FlaskCliRunner, blog: Flask
) -> None:
    shop_client, blog_client = file_app.test_client(), blog.test_client()
    assert shop_client.get("/").status_code == 200
    assert blog_client.get("/").status_code == 200
    result = run(
        file_runner,
        "set",
        "force_https_screens=true",
        "--application",
        "blog",
        "--new-application",
    )
    assert result.exit_code == 0, result.output
    assert blog_client.get("/").status_code == 301
    assert shop_client.get("/").status_code == 200
    blog_rows = show_rows(blog.test_cli_runner())
    assert blog_rows["/"]["application"] == "blog"
    assert blog_rows["/"]["reasons"] == ["application 'blog': force_https_screens"]
    assert show_rows(file_runner)["/"]["effective"] == "none"


def test_environment_key_changes_every_application(
    file_app: Flask, file_runner: FlaskCliRunner, blog: Flask
) -> None:
    shop_client, blog_client = file_app.test_client(), blog.test_client()
    assert shop_client.get("/").status_code == 200
    assert blog_client.get("/").status_code == 200
    result = run(file_runner, "set", "force_https_screens=true")
    assert result.exit_code == 0, result.output
    assert shop_client.get("/").status_code == 301
    assert blog_client.get("/").status_code == 301


def test_set_keeps_the_next_tables_comment_with_it(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        "[environment]\nhsts = false\n\n"
        "# The shop\n[applications.shop]\nsecure_cookies = true\n",
        "utf-8",
    )
    runner = create_app(str(path)).test_cli_runner()
    result = run(runner, "set", "force_https_screens=true")
    assert result.exit_code == 0, result.output
    assert path.read_text("utf-8") == (
        "[environment]\nhsts = false\nforce_https_screens = true\n\n"
        "# The shop\n[applications.shop]\nsecure_cookies = true\n"
    )
