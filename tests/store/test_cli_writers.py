"""``flask https set``, ``unset``, ``history`` and ``revert`` for an app whose
``ENFORCE_HTTPS_SETTINGS`` is a store URL: the same commands, the same
output, as for a settings file; each write is a revision, and the command
says how soon running applications apply it."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from clirun import ok, run
from conftest import create_app
from flask.testing import FlaskCliRunner

from flask_enforce_https.loading import Purpose, loading_for
from flask_enforce_https.store import Store

from .conftest import BAD_HEADS, break_head


def cli(store: Store, tmp_path: Path) -> FlaskCliRunner:
    """The CLI of the app "shop", whose settings are the store, loaded as
    each ``flask https`` command loads it (reading the store once)."""
    with loading_for(Purpose.COMMAND):
        app = create_app(
            str(store.url),
            ENFORCE_HTTPS_SETTINGS_CACHE=str(tmp_path / "cache.json"),
            ENFORCE_HTTPS_RELOAD_INTERVAL=5,
        )
    return app.test_cli_runner()


@pytest.fixture
def runner(store: Store, tmp_path: Path) -> FlaskCliRunner:
    return cli(store, tmp_path)


def history(runner: FlaskCliRunner) -> list[dict[str, t.Any]]:
    return list(json.loads(ok(runner, "history", "--format", "json").stdout))


def test_set_history_and_revert_on_a_store(
    runner: FlaskCliRunner, store: Store
) -> None:
    result = ok(runner, "set", "hsts=true", "hsts_max_age=600", "--reason", "go-live")
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "environment.hsts: null -> true",
        "environment.hsts_max_age: null -> 600",
        f"[environment] applies to every application reading {store.url}.",
    ]
    when = (
        "within about a second (PostgreSQL NOTIFY)"
        if store.url.dialect == "postgresql"
        else "within 5 s (ENFORCE_HTTPS_RELOAD_INTERVAL)"
    )
    assert lines[3] == (
        f"Revision 1 written to {store.url}; running applications apply it {when}."
    )
    ok(runner, "set", "force_https_screens=true", "--application", "shop")
    ok(runner, "unset", "hsts_max_age", "--reason", "too long")

    found = history(runner)
    assert [
        (e["revision"], e["scope"], e["key"], e["old"], e["new"], e["reason"])
        for e in found
    ] == [
        (1, "environment", "hsts", None, True, "go-live"),
        (1, "environment", "hsts_max_age", None, 600, "go-live"),
        (2, "shop", "force_https_screens", None, True, None),
        (3, "environment", "hsts_max_age", 600, None, "too long"),
    ]
    assert {e["origin"] for e in found} == {"cli"}
    assert {e["user"] for e in found} == {store.head().author}  # type: ignore[union-attr]
    assert set(found[0]) == {
        "time",
        "user",
        "scope",
        "key",
        "old",
        "new",
        "revision",
        "origin",
        "reason",
    }
    text = ok(runner, "history").stdout.splitlines()
    assert (
        "revision 3  environment.hsts_max_age: 600 -> null  (cli: too long)"
        in (text[3])
    )

    result = ok(runner, "revert", "1", "--reason", "screens broke")
    assert result.stdout.splitlines()[:2] == [
        "environment.hsts_max_age: null -> 600",
        "shop.force_https_screens: true -> null",
    ]
    assert f"Revision 4 written to {store.url}" in result.stdout
    head = store.head()
    assert head is not None
    assert head.document == {"environment": {"hsts": True, "hsts_max_age": 600}}
    assert (head.origin, head.reason) == (
        "revert",
        "revert to revision 1: screens broke",
    )
    assert history(runner)[-1]["origin"] == "revert"
    assert "nothing changed" in ok(runner, "revert", "4").stdout
    assert store.head() == head


def test_a_store_error_is_one_line(runner: FlaskCliRunner, store: Store) -> None:
    ok(runner, "set", "hsts=true")
    result = run(runner, "revert", "7")
    assert result.exit_code == 1, result.output
    assert result.stderr == "Error: no revision 7: revisions are 1 to 1\n"
    result = run(runner, "set", "exempt_paths=healthz")
    assert result.exit_code == 2, result.output
    assert "exempt_paths" in result.output
    assert store.head().number == 1  # type: ignore[union-attr]


def test_application_may_be_one_whose_processes_read_the_store(
    runner: FlaskCliRunner, store: Store
) -> None:
    result = run(runner, "set", "secure_cookies=true", "--application", "storefront")
    assert result.exit_code == 2, result.output
    assert "'storefront'" in result.output
    store.heartbeat("web1", 4211, "storefront", 0)
    ok(runner, "set", "secure_cookies=true", "--application", "storefront")
    head = store.head()
    assert head is not None
    assert head.document["applications"] == {"storefront": {"secure_cookies": True}}


def test_show_and_explain_read_what_set_wrote(
    runner: FlaskCliRunner, store: Store, tmp_path: Path
) -> None:
    ok(runner, "set", "force_https_screens=true", "--application", "shop")
    again = cli(store, tmp_path)  # the next command
    result = ok(again, "explain", "http://shop.example.com/", "--format", "json")
    assert json.loads(result.stdout)["effective"] == "tls"
    result = ok(again, "show")
    assert "why: application 'shop': force_https_screens" in result.stdout


@pytest.mark.parametrize("bad", BAD_HEADS)
def test_set_over_a_bad_head_mends_it(
    store: Store, tmp_path: Path, raw: sa.Engine, bad: str | None
) -> None:
    """A command loads the app on the newest valid revision under a bad
    head (a server would refuse to start), says so, and its change mends
    the head."""
    store.apply({"environment": {"hsts": True}}, 0, "admin", "cli")
    break_head(raw, 2, bad)
    runner = cli(store, tmp_path)
    shown = ok(runner, "show").stdout
    assert "stale" in shown
    result = ok(runner, "set", "hsts_max_age=600", "--reason", "mend")
    assert "Revision 3 written" in result.stdout
    head = store.head()
    assert head is not None
    assert head.document == {"environment": {"hsts": True, "hsts_max_age": 600}}
