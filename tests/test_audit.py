"""The audit log of ``flask https set``: never through a symbolic link, no
wider than the settings file, robust to a cut line; ``history`` reads what
it can and escapes what it prints."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import Result
from conftest import create_app

ENTRY = {
    "time": "2026-01-01T00:00:00Z",
    "user": "alice",
    "scope": "environment",
    "key": "hsts",
    "old": False,
    "new": True,
}


def cli(path: Path, *args: str) -> Result:
    """Run ``flask https ARGS`` for an app whose settings are ``path``."""
    app = create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    result = app.test_cli_runner().invoke(args=["https", *args])
    assert "Traceback" not in result.output, result.output
    return result


def settings(tmp_path: Path, mode: int = 0o644) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\n")
    path.chmod(mode)
    return path


def log_of(path: Path) -> Path:
    return path.with_name(path.name + ".audit.jsonl")


def test_audit_log_is_never_followed_through_a_symbolic_link(tmp_path: Path) -> None:
    path = settings(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("precious\n")
    log_of(path).symlink_to(elsewhere)
    result = cli(path, "set", "hsts=true")
    assert result.exit_code == 1, result.output
    assert "symbolic link" in result.output
    assert elsewhere.read_text() == "precious\n"
    assert path.read_text() == "[environment]\n", "nothing changed"
    result = cli(path, "history")
    assert result.exit_code == 1, result.output
    assert "symbolic link" in result.output


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        pytest.param(0o600, 0o600, id="private"),
        pytest.param(0o640, 0o640, id="group"),
        pytest.param(0o755, 0o644, id="never-executable"),
    ],
)
def test_audit_log_is_created_no_wider_than_the_settings_file(
    tmp_path: Path, mode: int, expected: int
) -> None:
    path = settings(tmp_path, mode)
    assert cli(path, "set", "hsts=true").exit_code == 0
    assert stat.S_IMODE(log_of(path).stat().st_mode) == expected


def test_a_cut_last_line_does_not_swallow_the_next_entry(tmp_path: Path) -> None:
    path = settings(tmp_path)
    log_of(path).write_text(json.dumps(ENTRY) + "\n" + json.dumps(ENTRY)[:25])
    assert cli(path, "set", "hsts=true").exit_code == 0
    lines = log_of(path).read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[2])["key"] == "hsts"
    result = cli(path, "history", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [e["key"] for e in json.loads(result.stdout)] == ["hsts", "hsts"]
    assert "line 2: skipped, not a JSON object" in result.stderr


def test_history_skips_and_reports_lines_it_cannot_read(tmp_path: Path) -> None:
    path = settings(tmp_path)
    log_of(path).write_bytes(
        b"\n".join(
            [
                json.dumps(ENTRY).encode(),
                b"not json",
                b'["a", "list"]',
                b'{"user": "\xff\xfe"}',
                json.dumps({**ENTRY, "user": "bob"}).encode(),
                b"",
            ]
        )
    )
    result = cli(path, "history")
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.stdout.splitlines()] == ["alice", "bob"]
    assert result.stderr.splitlines() == [
        f"{log_of(path)}, line 2: skipped, not a JSON object",
        f"{log_of(path)}, line 3: skipped, not a JSON object",
        f"{log_of(path)}, line 4: skipped, not UTF-8",
    ]
    result = cli(path, "history", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [e["user"] for e in json.loads(result.stdout)] == ["alice", "bob"]


def test_history_escapes_control_characters(tmp_path: Path) -> None:
    path = settings(tmp_path)
    forged = "mallory\n2026-01-01T00:00:00Z  root  environment.hsts: true -> false"
    log_of(path).write_text(
        json.dumps({**ENTRY, "user": forged})
        + "\n"
        + json.dumps({**ENTRY, "user": "eve\x1b[2J", "key": "hsts\r"})
        + "\n"
    )
    result = cli(path, "history")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "mallory\\n2026" in lines[0]
    assert "eve\\x1b[2J" in lines[1]
    assert "environment.hsts\\r:" in lines[1]
    assert "\x1b" not in result.stdout
    assert "\r" not in result.stdout
