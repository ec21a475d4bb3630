"""``flask https`` when the application does not load.

The group is a ``flask.commands`` entry point, so ``flask https`` exists even
when the app fails to load; its commands load the app themselves and turn
any failure into one line (exit status 1, or 2 when Flask finds no app):
never a traceback. An invalid settings file is named with its line and key;
``show`` still says where the settings come from and that running
applications keep their last good settings, and ``set``/``unset`` say how to
fix the file. The real proof runs ``flask`` in a subprocess, as an
administrator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import typing as t
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import create_app
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from flask_enforce_https.cli import https_cli

INVALID = '[environment]\nhsts = false\nexempt_paths = ["healthz"]\n'
INVALID_WHERE = ", line 3: environment.exempt_paths: expected paths"
APP_FILE = """\
from flask import Flask

from flask_enforce_https import EnforceHTTPS

app = Flask("shop")
app.config["ENFORCE_HTTPS_SETTINGS"] = {settings!r}
EnforceHTTPS(app)


@app.get("/")
def home():
    return "home"
"""
COMMANDS = [
    pytest.param(["show"], id="show"),
    pytest.param(["show", "--format", "json"], id="show-json"),
    pytest.param(["explain", "http://shop.example.com/"], id="explain"),
    pytest.param(["set", "hsts=true"], id="set"),
    pytest.param(["unset", "hsts"], id="unset"),
    pytest.param(["history"], id="history"),
    pytest.param(["check"], id="check"),
]


def flask(
    tmp_path: Path, *args: str, debug: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``flask https ARGS`` from this venv with ``FLASK_APP`` at the app
    file in ``tmp_path``."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("FLASK_")
    }
    env["FLASK_APP"] = str(tmp_path / "cli_app.py")
    env["FLASK_DEBUG"] = "1" if debug else "0"
    return subprocess.run(
        [sys.executable, "-m", "flask", "https", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error")]


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\nhsts = false\n", "utf-8")
    return path


@pytest.fixture
def app_file(tmp_path: Path, settings_file: Path) -> Path:
    path = tmp_path / "cli_app.py"
    path.write_text(APP_FILE.format(settings=str(settings_file)), "utf-8")
    return path


def test_the_group_is_a_flask_commands_entry_point() -> None:
    [entry] = [
        ep for ep in metadata.entry_points(group="flask.commands") if ep.name == "https"
    ]
    assert entry.load() is https_cli


@pytest.mark.usefixtures("app_file")
@pytest.mark.parametrize("args", COMMANDS)
def test_invalid_settings_file_is_one_error_and_exit_1(
    tmp_path: Path, settings_file: Path, args: list[str]
) -> None:
    settings_file.write_text(INVALID, "utf-8")
    before = settings_file.read_bytes()
    result = flask(tmp_path, *args)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr
    [error] = error_lines(result.stderr)
    assert (
        error
        == f"Error: {settings_file}{INVALID_WHERE}" + error.partition(INVALID_WHERE)[2]
    )
    assert settings_file.read_bytes() == before


@pytest.mark.usefixtures("app_file")
def test_show_says_what_it_can_of_an_invalid_file(
    tmp_path: Path, settings_file: Path
) -> None:
    settings_file.write_text(INVALID, "utf-8")
    result = flask(tmp_path, "show")
    assert result.returncode == 1, result
    # Wrapped like show's other lines: compare the words.
    assert result.stdout.split() == [
        "Settings:",
        str(settings_file),
        "(invalid;",
        *["see", "the", "error", "below)"],
    ]
    assert "Running applications keep their last good settings" in result.stderr

    result = flask(tmp_path, "show", "--format", "json")
    assert result.stdout == ""  # no half JSON for a script to parse
    assert "Running applications keep their last good settings" in result.stderr


@pytest.mark.usefixtures("app_file")
@pytest.mark.parametrize("command", ["set hsts=true", "unset hsts"])
def test_set_and_unset_say_how_to_fix_an_invalid_file(
    tmp_path: Path, settings_file: Path, command: str
) -> None:
    settings_file.write_text(INVALID, "utf-8")
    result = flask(tmp_path, *command.split())
    assert result.returncode == 1, result
    assert "Fix the file by hand first" in result.stderr
    assert not (tmp_path / "settings.toml.audit.jsonl").exists()


@pytest.mark.usefixtures("app_file")
def test_a_valid_app_works_through_the_entry_point(
    tmp_path: Path, settings_file: Path
) -> None:
    result = flask(tmp_path, "show")
    assert result.returncode == 0, result
    assert f"Settings: {settings_file} (ok;" in result.stdout
    result = flask(tmp_path, "set", "hsts=true")
    assert result.returncode == 0, result
    assert "environment.hsts: false -> true" in result.stdout


def test_no_app_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = flask(tmp_path, "show")  # there is no cli_app.py
    assert result.returncode == 2, result
    assert error_lines(result.stderr) == ["Error: Could not import 'cli_app'."]
    assert result.stderr.strip().count("\n") == 0


def test_an_import_error_in_the_app_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cli_app.py").write_text("import no_such_module_here\n", "utf-8")
    result = flask(tmp_path, "show")
    assert result.returncode == 2, result
    [error] = error_lines(result.stderr)
    assert "no_such_module_here" in error
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_a_failing_app_is_one_line_and_debug_shows_the_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "cli_app.py").write_text(
        textwrap.dedent(
            """\
            from flask import Flask

            def create_app():
                raise RuntimeError("no database")
            """
        ),
        "utf-8",
    )
    result = flask(tmp_path, "show")
    assert result.returncode == 1, result
    assert error_lines(result.stderr) == [
        "Error: could not load the application: RuntimeError: no database"
    ]
    assert "Traceback" not in result.stderr
    assert "--debug" in result.stderr

    result = flask(tmp_path, "show", debug=True)
    assert "Traceback" in result.stderr
    assert "RuntimeError: no database" in result.stderr


# -- the same, in process ---------------------------------------------------


def failing(settings: t.Any) -> t.Callable[[], Flask]:
    """An app factory whose app's settings are ``settings``."""
    return lambda: create_app(settings)


@pytest.mark.parametrize(
    ("settings", "hint"),
    [
        pytest.param(
            {"environment": {"hsts": "maybe"}},
            "Fix ENFORCE_HTTPS_SETTINGS in the application's config.",
            id="mapping",
        ),
        pytest.param(
            {"environment": {"hsts": True}, "applications": {"shop": {"hsts": 1}}},
            "Fix ENFORCE_HTTPS_SETTINGS in the application's config.",
            id="mapping-application",
        ),
    ],
)
def test_invalid_mapping_says_to_fix_the_config(settings: t.Any, hint: str) -> None:
    for args in (["show"], ["set", "hsts=true"]):
        result = CliRunner().invoke(
            https_cli, args, obj=ScriptInfo(create_app=failing(settings))
        )
        assert result.exit_code == 1, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        lines = result.output.splitlines()
        assert lines[-2].startswith("Error: ENFORCE_HTTPS_SETTINGS: "), lines
        assert lines[-1] == hint
        assert "(invalid" not in result.output


def test_flask_finds_the_group_without_loading_the_app(settings_file: Path) -> None:
    """FlaskGroup looks plugin commands up before ``app.cli``: ``https``
    is found although the app fails to load."""
    settings_file.write_text(INVALID, "utf-8")
    group = FlaskGroup(create_app=failing(str(settings_file)))
    result = CliRunner().invoke(group, ["https", "show"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"Settings: {settings_file} (invalid" in result.output
    assert f"Error: {settings_file}{INVALID_WHERE}" in result.output


def test_a_bad_config_key_is_one_line() -> None:
    factory = lambda: create_app({}, ENFORCE_HTTPS_PORT=0)  # noqa: E731
    result = CliRunner().invoke(https_cli, ["show"], obj=ScriptInfo(create_app=factory))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "Error: ENFORCE_HTTPS_PORT: expected a port from 1 to 65535, got 0"
    ]
