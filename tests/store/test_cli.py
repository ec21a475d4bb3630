"""``flask https store``: init, upgrade, status, export and import, on
SQLite and PostgreSQL, without ever loading the application.

Every failure is one ``Error:`` line and exit status 1 (2 for a usage
error), never a traceback, and never the URL's password.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask.cli import ScriptInfo

from flask_enforce_https.cli import https_cli
from flask_enforce_https.cli.store import store_cli
from flask_enforce_https.store import SCHEMA_VERSION, Store
from flask_enforce_https.store.schema import STEPS, meta

from .conftest import BAD_HEADS, break_head

SETTINGS = """\
[environment]
hsts = true
exempt_paths = ["/healthz"]

[applications.shop]
force_https_screens = true
"""
DOCUMENT = tomllib.loads(SETTINGS)
OTHER = "[environment]\nhsts = false\n"
#: The line of the mistake: exempt_paths must start with a slash.
INVALID = '[environment]\nhsts = true\n\nexempt_paths = ["healthz"]\n'
PASSWORD = "s3cret-Pa55"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``flask https store ARGS``; whatever happens, never a traceback."""
    result = CliRunner().invoke(store_cli, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def one_error(result: Result, code: int = 1) -> str:
    """The one error line of a failed command."""
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if code == 1:
        assert lines == errors, result.stderr
    assert not result.stdout
    return errors[0]


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS, "utf-8")
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_the_store_group_has_its_commands() -> None:
    assert https_cli.commands["store"] is store_cli
    assert sorted(store_cli.commands) == [
        "export",
        "import",
        "init",
        "status",
        "upgrade",
    ]


# -- init and upgrade ---------------------------------------------------------


def test_init_creates_the_store_then_does_nothing(
    store_url: str, bare_store: Store
) -> None:
    first = run("init", "--url", store_url)
    assert first.exit_code == 0, first.output
    assert "created the store" in first.stdout
    assert bare_store.schema_version() == SCHEMA_VERSION
    second = run("init", "--url", store_url)
    assert second.exit_code == 0, second.output
    assert "the store exists" in second.stdout
    assert "nothing changed" in second.stdout


def test_upgrade_says_from_and_to(
    store_url: str, store: Store, raw: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Version 1 is the first; a store "at version 0" with a step to 1
    # stands for the next migration.
    with raw.begin() as connection:
        connection.execute(meta.update().values(value="0"))
    monkeypatch.setitem(STEPS, 0, lambda connection, schema: None)
    result = run("upgrade", "--url", store_url)
    assert result.exit_code == 0, result.output
    assert f"migrated from schema version 0 to {SCHEMA_VERSION}" in result.stdout
    assert store.schema_version() == SCHEMA_VERSION
    again = run("upgrade", "--url", store_url)
    assert again.exit_code == 0, again.output
    assert "is current; nothing to migrate" in again.stdout


def test_a_newer_schema_says_to_upgrade_the_package(
    store_url: str, store: Store, raw: sa.Engine
) -> None:
    with raw.begin() as connection:
        connection.execute(meta.update().values(value=str(SCHEMA_VERSION + 1)))
    for command in ("status", "upgrade", "init"):
        error = one_error(run(command, "--url", store_url))
        assert "upgrade flask-enforce-https" in error


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["status"], id="status"),
        pytest.param(["upgrade"], id="upgrade"),
        pytest.param(["export"], id="export"),
        pytest.param(["import", "FILE"], id="import"),
    ],
)
def test_a_missing_store_names_the_command_that_creates_it(
    store_url: str, bare_store: Store, settings_file: Path, args: list[str]
) -> None:
    args = [str(settings_file) if a == "FILE" else a for a in args]
    error = one_error(run(*args, "--url", store_url))
    assert "flask https store init" in error
    assert bare_store.schema_version() is None


# -- status -----------------------------------------------------------------


def test_status_of_an_empty_store(store_url: str, store: Store) -> None:
    result = run("status", "--url", store_url)
    assert result.exit_code == 0, result.output
    assert f"Store: {store.url}" in result.stdout
    assert "Revision: none yet (0)" in result.stdout
    assert "Processes: none seen" in result.stdout
    data = json.loads(run("status", "--url", store_url, "--format", "json").stdout)
    assert data == {
        "store": str(store.url),
        "schema_version": SCHEMA_VERSION,
        "head": None,
        "processes": [],
    }


def test_status_shows_the_head_and_who_lags(store_url: str, store: Store) -> None:
    store.apply(DOCUMENT, 0, "alice", "cli", "first")
    store.apply({"environment": {}}, 1, "bob", "console", "roll back hsts")
    store.heartbeat("web1", 100, "shop", 2)
    store.heartbeat("web2", 200, "shop", 1)
    result = run("status", "--url", store_url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("Revision: 2, ")
        and line.endswith("by bob (console): roll back hsts")
        for line in lines
    ), result.stdout
    assert "Processes: 2, 1 behind" in lines
    [web1] = [line.split() for line in lines if line.startswith("web1")]
    [web2] = [line.split() for line in lines if line.startswith("web2")]
    assert web1[:4] == ["web1", "100", "shop", "2"]
    assert web1[-3:] == ["up", "to", "date"]
    assert web2[:4] == ["web2", "200", "shop", "1"]
    assert web2[-1] == "behind"

    data = json.loads(run("status", "--url", store_url, "--format", "json").stdout)
    head = data["head"]
    assert head["revision"] == 2
    assert (head["author"], head["origin"], head["reason"]) == (
        "bob",
        "console",
        "roll back hsts",
    )
    assert head["time"].endswith("Z")
    assert [(p["host"], p["revision"], p["behind"]) for p in data["processes"]] == [
        ("web1", 2, False),
        ("web2", 1, True),
    ]


# -- export and import ------------------------------------------------------


def test_import_writes_a_revision_with_origin_import(
    store_url: str, store: Store, settings_file: Path
) -> None:
    result = run(
        "import", str(settings_file), "--url", store_url, "--reason", "go live"
    )
    assert result.exit_code == 0, result.output
    assert "environment.hsts: null -> true" in result.stdout
    assert "shop.force_https_screens: null -> true" in result.stdout
    assert "revision 1 written" in result.stdout
    head = store.head()
    assert head is not None
    assert (head.number, head.document) == (1, DOCUMENT)
    assert (head.author, head.origin, head.reason) == (
        getpass.getuser(),
        "import",
        "go live",
    )


def test_importing_the_settings_in_force_writes_nothing(
    store_url: str, store: Store, settings_file: Path
) -> None:
    run("import", str(settings_file), "--url", store_url)
    result = run("import", str(settings_file), "--url", store_url)
    assert result.exit_code == 0, result.output
    assert "nothing written" in result.stdout
    head = store.head()
    assert head is not None
    assert head.number == 1


@pytest.mark.parametrize("fmt", [pytest.param("toml"), pytest.param("json")])
def test_export_then_import_is_a_round_trip(
    store_url: str, store: Store, tmp_path: Path, fmt: str
) -> None:
    store.apply(DOCUMENT, 0, "alice", "cli")
    printed = run("export", "--url", store_url, "--format", fmt)
    assert printed.exit_code == 0, printed.output
    loads = tomllib.loads if fmt == "toml" else json.loads
    assert loads(printed.stdout) == DOCUMENT
    assert printed.stdout.index("environment") < printed.stdout.index("applications")

    exported = tmp_path / f"exported.{fmt}"
    written = run("export", "--url", store_url, "--output", str(exported))
    assert written.exit_code == 0, written.output
    assert exported.read_text("utf-8") == printed.stdout

    store.apply(tomllib.loads(OTHER), 1, "bob", "cli")
    result = run("import", str(exported), "--url", store_url)
    assert result.exit_code == 0, result.output
    assert "revision 3 written" in result.stdout
    head = store.head()
    assert head is not None
    assert head.document == DOCUMENT


def test_export_of_an_empty_store_is_an_error(store_url: str, store: Store) -> None:
    assert "no revision yet" in one_error(run("export", "--url", store_url))


def test_export_output_and_format_must_agree(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    store.apply(DOCUMENT, 0, "alice", "cli")
    output = str(tmp_path / "out.json")
    error = one_error(
        run("export", "--url", store_url, "--format", "toml", "-o", output), 2
    )
    assert "drop --format toml" in error
    error = one_error(run("export", "--url", store_url, "-o", str(tmp_path / "x")), 2)
    assert "name a .toml or .json file" in error
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        pytest.param(
            "bad.toml",
            INVALID,
            ", line 4: environment.exempt_paths: expected paths",
            id="toml-value",
        ),
        pytest.param(
            "bad.json",
            '{\n  "environment": {\n    "hsts": "yes"\n  }\n}\n',
            ", line 3: environment.hsts:",
            id="json-value",
        ),
        pytest.param(
            "bad.toml",
            "[environment]\nhsts = \n",
            ", line 2: invalid TOML",
            id="toml-syntax",
        ),
    ],
)
def test_an_invalid_file_is_named_with_its_line_and_nothing_is_written(
    store_url: str, store: Store, tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = write(tmp_path, name, text)
    error = one_error(run("import", str(path), "--url", store_url))
    assert error.startswith(f"Error: {path}{where}"), error
    assert store.head() is None


def test_import_refuses_a_missing_file_and_other_formats(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.toml"
    error = one_error(run("import", str(missing), "--url", store_url))
    assert error.startswith(f"Error: {missing}: cannot read the file")
    other = write(tmp_path, "settings.yaml", "environment: {}\n")
    assert "name a .toml or .json" in one_error(
        run("import", str(other), "--url", store_url), 2
    )
    assert store.head() is None


def test_expect_makes_import_a_compare_and_swap(
    store_url: str, store: Store, tmp_path: Path, settings_file: Path
) -> None:
    store.apply(tomllib.loads(OTHER), 0, "alice", "cli")
    store.apply(DOCUMENT, 1, "bob", "console")
    other = write(tmp_path, "other.toml", OTHER)
    error = one_error(run("import", str(other), "--url", store_url, "--expect", "1"))
    assert "revision 2 by bob is in force now; nothing was written" in error
    head = store.head()
    assert head is not None
    assert head.number == 2
    result = run("import", str(other), "--url", store_url, "--expect", "2")
    assert result.exit_code == 0, result.output
    assert "environment.hsts: true -> false" in result.stdout
    assert "revision 3 written" in result.stdout


# -- where the URL comes from, and what is never shown ----------------------


def test_the_url_may_come_from_enforce_https_settings(
    store_url: str, bare_store: Store
) -> None:
    result = run("init", env={"ENFORCE_HTTPS_SETTINGS": store_url})
    assert result.exit_code == 0, result.output
    assert bare_store.schema_version() == SCHEMA_VERSION


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"ENFORCE_HTTPS_SETTINGS": "/etc/settings.toml"}, id="a-file"),
        pytest.param({"ENFORCE_HTTPS_SETTINGS": ""}, id="unset"),
    ],
)
def test_without_a_store_url_the_command_says_how_to_name_one(
    env: dict[str, str],
) -> None:
    error = one_error(run("status", env=env), 2)
    assert "--url URL" in error
    assert "ENFORCE_HTTPS_SETTINGS" in error


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = f"postgresql+psycopg://admin:{PASSWORD}@127.0.0.1:1/test"
    for command in ("status", "init"):
        result = run(command, "--url", url)
        error = one_error(result)
        assert "postgresql+psycopg://admin:***@127.0.0.1:1/test" in error
        assert PASSWORD not in result.output


def test_a_bad_url_is_one_line_without_the_password() -> None:
    result = run("status", "--url", f"mysql://admin:{PASSWORD}@db/x")
    assert "not a store URL" in one_error(result)
    assert PASSWORD not in result.output


# -- without the application ------------------------------------------------

BROKEN_APP = "raise RuntimeError('this app does not load')\n"


def test_the_commands_never_load_the_app(
    store_url: str, bare_store: Store, tmp_path: Path, settings_file: Path
) -> None:
    app = write(tmp_path, "broken.py", BROKEN_APP)
    runner = CliRunner()
    info = ScriptInfo(app_import_path=str(app))
    for args in (
        ["init"],
        ["import", str(settings_file)],
        ["status"],
        ["export"],
        ["upgrade"],
    ):
        result = runner.invoke(
            https_cli, ["store", *args, "--url", store_url], obj=info
        )
        assert result.exit_code == 0, (args, result.output)
    head = bare_store.head()
    assert head is not None
    assert head.document == DOCUMENT


def test_flask_https_store_runs_with_a_broken_app(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    app = write(tmp_path, "broken.py", BROKEN_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env["FLASK_APP"] = str(app)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "https", "store", "status", "--url", store_url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Revision: none yet (0)" in done.stdout
    assert not done.stderr


def test_without_the_store_extra_the_commands_say_what_to_install(
    tmp_path: Path,
) -> None:
    # A None in sys.modules makes "import sqlalchemy" fail, as it does
    # where the extra is not installed.
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sqlalchemy"] = None
        from flask_enforce_https.cli import https_cli
        https_cli.main(["store", "status", "--url", "sqlite:///x.db"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: the settings store needs SQLAlchemy and psycopg: install"
        " flask-enforce-https[store] (pip install 'flask-enforce-https[store]')"
    ]
    assert not done.stdout


# -- a head changed by hand ----------------------------------------------------


@pytest.mark.parametrize("bad", BAD_HEADS)
def test_status_shows_a_bad_head_and_the_processes(
    store_url: str, store: Store, raw: sa.Engine, bad: str | None
) -> None:
    store.apply(DOCUMENT, 0, "admin", "cli")
    store.heartbeat("web1", 11, "shop", 1)
    break_head(raw, 2, bad)
    result = run("status", "--url", store_url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("Revision: 2, not valid: ")
    assert "write a good one" in lines[1]
    assert lines[2] == "Processes: 1, 1 behind"
    found = json.loads(run("status", "--url", store_url, "--format", "json").stdout)
    assert found["head"]["revision"] == 2
    assert found["head"]["problem"]


@pytest.mark.parametrize("bad", BAD_HEADS)
@pytest.mark.parametrize(
    "expect", [pytest.param([], id="in-force"), pytest.param(["--expect", "2"], id="2")]
)
def test_import_mends_a_bad_head(
    store_url: str,
    store: Store,
    raw: sa.Engine,
    settings_file: Path,
    bad: str | None,
    expect: list[str],
) -> None:
    store.apply(tomllib.loads(OTHER), 0, "admin", "cli")
    break_head(raw, 2, bad)
    result = run("import", str(settings_file), "--url", store_url, *expect)
    assert result.exit_code == 0, result.output
    assert "revision 3 written" in result.stdout
    head = store.head()
    assert head is not None
    assert (head.number, head.document) == (3, DOCUMENT)
