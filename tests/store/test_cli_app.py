"""The ``flask https`` commands for an app whose settings are a store.

``flask --app X https store init`` takes the store's URL from the app,
loading it without touching the store (an app refuses to start while its
store has no tables, and that is what ``init`` is for); ``show`` reads the
store once and says which revision is in force.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import create_app
from flask.cli import ScriptInfo

from flask_enforce_https.cli import https_cli
from flask_enforce_https.store import Store

PASSWORD = "s3cret-Pa55"


def flask_https(url: t.Any, tmp_path: Path, *args: str) -> Result:
    """Run ``flask --app (an app reading url) https ARGS``."""
    info = ScriptInfo(
        create_app=lambda: create_app(
            url, ENFORCE_HTTPS_SETTINGS_CACHE=str(tmp_path / "cache.json")
        )
    )
    return CliRunner().invoke(https_cli, list(args), obj=info)


def words(text: str) -> str:
    """``text`` on one line: ``show`` wraps to the terminal's width."""
    return " ".join(text.split())


def test_store_init_takes_the_url_from_the_app(
    store_url: str, bare_store: Store, tmp_path: Path
) -> None:
    refused = flask_https(store_url, tmp_path, "show")
    assert refused.exit_code == 1
    assert "flask https store init" in refused.stderr
    created = flask_https(store_url, tmp_path, "store", "init")
    assert created.exit_code == 0, created.output
    assert "created the store" in created.stdout
    shown = flask_https(store_url, tmp_path, "show")
    assert shown.exit_code == 0, shown.output
    assert f"Settings: {bare_store.url} (ok, revision 0;" in words(shown.stdout)


def test_show_names_the_revision_in_force(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    store.apply({"environment": {"force_https_screens": True}}, 0, "t", "cli")
    shown = flask_https(store_url, tmp_path, "show")
    assert shown.exit_code == 0, shown.output
    assert "(ok, revision 1;" in words(shown.stdout)
    assert not (tmp_path / "cache.json").exists()  # a command writes no cache


def test_store_status_of_an_app_without_a_store_says_so(tmp_path: Path) -> None:
    result = flask_https(None, tmp_path, "store", "status")
    assert result.exit_code == 2
    assert "does not read its settings from a store" in result.stderr


def test_the_password_in_the_app_url_is_never_shown(
    postgresql_url: str, tmp_path: Path
) -> None:
    user, _, rest = postgresql_url.partition("@")
    url = f"{user}:{PASSWORD}@{rest}"
    for args in (["show"], ["store", "status"], ["store", "init"], ["show"]):
        result = flask_https(url, tmp_path, *args)
        assert PASSWORD not in result.output, args


@pytest.mark.parametrize(
    "args",
    [pytest.param(["store", "status"], id="status"), pytest.param(["show"], id="show")],
)
def test_a_store_that_does_not_answer_is_one_line(
    tmp_path: Path, args: list[str]
) -> None:
    down = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/test"
    result = flask_https(down, tmp_path, *args)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert PASSWORD not in result.output
