"""``flask https set``/``unset``: which table a change goes to, and how a
value is read.

``--application NAME`` names the table; a NAME that is neither this app's nor
already in the settings is refused unless ``--new-application`` is given, so
that a typo does not start a table no application reads. A change to
``[environment]`` says that it applies to every application reading the
file. A value is one TOML value (trailing text is refused), or a boolean as
people type it, or plain text.
"""

from __future__ import annotations

import json
import tomllib
import typing as t
from pathlib import Path

import pytest
from click.testing import Result
from clirun import run
from conftest import create_app
from flask import Flask
from flask.testing import FlaskCliRunner

SETTINGS_TOML = """\
[environment]
hsts = false

[applications.orders]
secure_cookies = true
"""


def load(path: Path) -> dict[str, t.Any]:
    return tomllib.loads(path.read_text("utf-8"))


def audit_log(settings_file: Path) -> Path:
    return settings_file.with_name(settings_file.name + ".audit.jsonl")


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS_TOML, "utf-8")
    return path


@pytest.fixture
def shop(settings_file: Path) -> Flask:
    """The app "shop", which has no table in the settings yet."""
    return create_app(str(settings_file), ENFORCE_HTTPS_RELOAD_INTERVAL=0)


@pytest.fixture
def runner(shop: Flask) -> FlaskCliRunner:
    return shop.test_cli_runner()


def assert_refused(result: Result, settings_file: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert settings_file.read_text("utf-8") == SETTINGS_TOML
    assert not audit_log(settings_file).exists()


# -- --application ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(
            ["set", "force_https_screens=true", "--application", "shpo"],
            ["'shpo'", "'shop'", "'orders'", "--new-application"],
            id="set-typo",
        ),
        pytest.param(
            ["unset", "force_https_screens", "--application", "shpo"],
            ["'shpo'", "'shop'", "'orders'"],
            id="unset-typo",
        ),
        pytest.param(
            ["set", "force_https_screens=true", "--new-application"],
            ["--new-application needs --application NAME"],
            id="new-without-name",
        ),
        pytest.param(
            ["set", "force_https_screens=true", "--app", "shop"],
            ["--app"],
            id="no-app-alias",
        ),
        pytest.param(
            ["unset", "secure_cookies", "--app", "orders"],
            ["--app"],
            id="no-app-alias-unset",
        ),
    ],
)
def test_an_unknown_application_is_refused(
    runner: FlaskCliRunner, settings_file: Path, args: list[str], words: list[str]
) -> None:
    assert_refused(run(runner, *args), settings_file, *words)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        pytest.param("shop", [], id="this-app"),
        pytest.param("orders", [], id="in-the-settings"),
        pytest.param("blog", ["--new-application"], id="new"),
    ],
)
def test_a_known_or_new_application_is_changed(
    runner: FlaskCliRunner, settings_file: Path, name: str, extra: list[str]
) -> None:
    result = run(runner, "set", "hsts_preload=true", "--application", name, *extra)
    assert result.exit_code == 2, result.output  # an environment-only key
    assert "drop --application" in result.output

    args = ["set", "force_https_screens=true", "--application", name, *extra]
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    assert load(settings_file)["applications"][name]["force_https_screens"] is True
    assert "every application" not in result.output
    [entry] = map(json.loads, audit_log(settings_file).read_text("utf-8").splitlines())
    assert entry["scope"] == name


def test_unset_of_this_apps_own_absent_table_changes_nothing(
    runner: FlaskCliRunner, settings_file: Path
) -> None:
    result = run(runner, "unset", "force_https_screens", "--application", "shop")
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    assert settings_file.read_text("utf-8") == SETTINGS_TOML


def test_an_environment_change_says_it_applies_to_every_application(
    runner: FlaskCliRunner, settings_file: Path
) -> None:
    for args in (["set", "hsts=true"], ["unset", "hsts"]):
        result = run(runner, *args)
        assert result.exit_code == 0, result.output
        assert (
            f"[environment] applies to every application reading {settings_file}."
            in result.output
        )


# -- values -----------------------------------------------------------------


@pytest.mark.parametrize(
    "assignment",
    [
        pytest.param('exempt_paths=["/x"]\nhsts = true', id="list-then-key"),
        pytest.param("hsts=true\nhsts_preload = true", id="bool-then-key"),
        pytest.param("hsts_max_age=600\n[applications.blog]", id="then-table"),
        pytest.param('exempt_paths=["/x"]\n\n"a.b" = 1', id="quoted-key"),
    ],
)
def test_a_value_with_trailing_text_is_refused(
    runner: FlaskCliRunner, settings_file: Path, assignment: str
) -> None:
    key = assignment.partition("=")[0]
    assert_refused(run(runner, "set", assignment), settings_file, key, "one value")


def test_a_value_with_a_trailing_comment_is_one_value(
    runner: FlaskCliRunner, settings_file: Path
) -> None:
    result = run(runner, "set", 'exempt_paths=["/x"]  # health checks')
    assert result.exit_code == 0, result.output
    assert load(settings_file)["environment"]["exempt_paths"] == ["/x"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("true", True, id="true"),
        pytest.param("True", True, id="True"),
        pytest.param("yes", True, id="yes"),
        pytest.param("YES", True, id="YES"),
        pytest.param("on", True, id="on"),
        pytest.param("On", True, id="On"),
        pytest.param("false", False, id="false"),
        pytest.param("FALSE", False, id="FALSE"),
        pytest.param("no", False, id="no"),
        pytest.param("Off", False, id="Off"),
        pytest.param(" off ", False, id="spaces"),
    ],
)
def test_booleans_as_people_type_them(
    runner: FlaskCliRunner, settings_file: Path, text: str, value: bool
) -> None:
    # hsts is false in the file: set it to the opposite first, so that both
    # values are written.
    result = run(runner, "set", f"secure_cookies={text}", "--application", "orders")
    assert result.exit_code == 0, result.output
    assert load(settings_file)["applications"]["orders"]["secure_cookies"] is value
    result = run(runner, "set", f"hsts={text}")
    assert result.exit_code == 0, result.output
    assert load(settings_file)["environment"]["hsts"] is value


@pytest.mark.parametrize(
    ("assignment", "key"),
    [
        pytest.param("hsts=maybe", "hsts", id="maybe"),
        pytest.param("hsts=1", "hsts", id="one"),
        pytest.param("hsts=y", "hsts", id="y"),
        pytest.param("hsts_max_age=yes", "hsts_max_age", id="yes-for-a-number"),
        pytest.param("exempt_paths=yes", "exempt_paths", id="yes-for-a-list"),
    ],
)
def test_other_words_are_not_booleans(
    runner: FlaskCliRunner, settings_file: Path, assignment: str, key: str
) -> None:
    assert_refused(run(runner, "set", assignment), settings_file, key)
