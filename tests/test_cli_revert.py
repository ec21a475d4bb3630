"""``flask https set --reason``, ``history`` with revisions and reasons, and
``flask https revert REV`` on a settings file.

Each command that changes something is one revision; ``revert REV`` makes
the settings what they were right after revision REV, as a new revision
whose reason says so. Whatever goes wrong is one ``Error:`` line.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from clirun import ok, run
from conftest import create_app
from flask.testing import FlaskCliRunner

SETTINGS_TOML = """\
# Farm settings
[environment]
hsts = false
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS_TOML, "utf-8")
    return path


@pytest.fixture
def runner(settings_file: Path) -> FlaskCliRunner:
    app = create_app(str(settings_file), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    return app.test_cli_runner()


def history(runner: FlaskCliRunner) -> list[dict[str, object]]:
    return list(json.loads(ok(runner, "history", "--format", "json").stdout))


def test_set_and_unset_record_their_reason(runner: FlaskCliRunner) -> None:
    result = ok(runner, "set", "hsts=true", "hsts_max_age=600", "--reason", "go-live")
    assert "(revision 1)" in result.stdout
    ok(runner, "unset", "hsts_max_age", "--reason", "too long")
    ok(runner, "set", "secure_cookies=true")
    found = history(runner)
    assert [
        (e["revision"], e["key"], e["old"], e["new"], e["reason"], e["origin"])
        for e in found
    ] == [
        (1, "hsts", False, True, "go-live", "cli"),
        (1, "hsts_max_age", None, 600, "go-live", "cli"),
        (2, "hsts_max_age", 600, None, "too long", "cli"),
        (3, "secure_cookies", None, True, None, "cli"),
    ]
    for entry in found:
        assert set(entry) == {
            "time",
            "user",
            "scope",
            "key",
            "old",
            "new",
            "revision",
            "reason",
            "origin",
        }
        assert entry["scope"] == "environment"
    lines = ok(runner, "history").stdout.splitlines()
    assert len(lines) == 4
    assert "revision 1  environment.hsts: false -> true  (cli: go-live)" in lines[0]
    assert (
        "revision 2  environment.hsts_max_age: 600 -> null  (cli: too long)"
        in (lines[2])
    )
    assert lines[3].endswith(
        "revision 3  environment.secure_cookies: null -> true  (cli)"
    )


def test_revert_makes_a_new_revision_with_the_old_settings(
    runner: FlaskCliRunner, settings_file: Path
) -> None:
    ok(runner, "set", "hsts=true", "--reason", "go-live")
    ok(runner, "set", "hsts_max_age=600")
    ok(runner, "set", "force_https_screens=true", "--application", "shop")
    result = ok(runner, "revert", "1", "--reason", "screens broke")
    assert result.stdout.splitlines()[:2] == [
        "environment.hsts_max_age: 600 -> null",
        "shop.force_https_screens: true -> null",
    ]
    assert f"Written to {settings_file} (revision 4)" in result.stdout
    text = settings_file.read_text("utf-8")
    assert text.startswith("# Farm settings\n")
    assert tomllib.loads(text) == {"environment": {"hsts": True}}
    reverted = [e for e in history(runner) if e["revision"] == 4]
    assert {(e["origin"], e["reason"]) for e in reverted} == {
        ("revert", "revert to revision 1: screens broke")
    }
    # The app in this process follows the file.
    assert run(runner, "show", "--format", "json").exit_code == 0
    result = ok(runner, "revert", "4")
    assert "nothing changed" in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        pytest.param(
            ["revert", "9"], 1, ["no revision 9: revisions are 1 to 2"], id="unknown"
        ),
        pytest.param(["revert", "0"], 2, ["REV"], id="zero"),
        pytest.param(["revert", "one"], 2, ["REV"], id="not-a-number"),
    ],
)
def test_revert_to_a_revision_that_is_not_there_is_refused(
    runner: FlaskCliRunner,
    settings_file: Path,
    args: list[str],
    status: int,
    words: list[str],
) -> None:
    ok(runner, "set", "hsts=true")
    ok(runner, "set", "hsts=false")
    before = settings_file.read_bytes()
    result = run(runner, *args)
    assert result.exit_code == status, result.output
    for word in words:
        assert word in result.output
    assert settings_file.read_bytes() == before


def test_revert_of_a_file_edited_by_hand_is_one_error_line(
    runner: FlaskCliRunner, settings_file: Path
) -> None:
    ok(runner, "set", "hsts=true")
    ok(runner, "set", "hsts_max_age=600")
    settings_file.write_text(
        settings_file.read_text("utf-8").replace("600", "900"), "utf-8"
    )
    before = settings_file.read_bytes()
    result = run(runner, "revert", "1")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert "environment.hsts_max_age is 900" in line
    assert "edited by hand" in line
    assert settings_file.read_bytes() == before


def test_revert_needs_settings_that_can_be_changed() -> None:
    runner = create_app({"environment": {"hsts": False}}).test_cli_runner()
    result = run(runner, "revert", "1")
    assert result.exit_code == 2, result.output
    assert "store URL" in result.output
