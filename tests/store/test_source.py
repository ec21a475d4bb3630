"""Applications whose settings are a store: start-up, the poller that keeps
each process in step, the local cache, outages and rejected revisions, on
SQLite and PostgreSQL.

The poller runs as it does in production, a thread of the test process;
each test closes its source, which stops the thread.
"""

from __future__ import annotations

import json
import logging
import os
import time
import typing as t
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import create_app
from flask import Flask

from flask_enforce_https import signals
from flask_enforce_https.errors import ConfigurationError, SettingsError
from flask_enforce_https.loading import Purpose, loading_for
from flask_enforce_https.store import SCHEMA_VERSION, SchemaError, Store, StoreError
from flask_enforce_https.store.schema import head, meta, revisions
from flask_enforce_https.store.source import StoreSource

from .conftest import break_head

SCREENS = {"environment": {"force_https_screens": True}}
OPEN = {"environment": {"force_https_screens": False}}
#: Nothing listens on port 1 of the loopback: a store that does not answer.
DOWN = "postgresql+psycopg://postgres:s3cret-Pa55@127.0.0.1:1/test"


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Wait until ``condition()``; return how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not true after {timeout} s: {condition}")
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store with its tables, for tests of one backend."""
    with Store(f"sqlite:///{tmp_path}/one.db") as store:
        store.init()
        yield store


@pytest.fixture
def postgresql_store(postgresql_url: str) -> Iterator[Store]:
    """A PostgreSQL store with its tables, in a fresh schema."""
    with Store(postgresql_url) as store:
        store.init()
        yield store


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Makes apps reading a store; closes their sources after the test."""
    made: list[Flask] = []

    def make(url: str, **config: t.Any) -> Flask:
        config.setdefault("ENFORCE_HTTPS_SETTINGS_CACHE", str(tmp_path / "cache.json"))
        config.setdefault("ENFORCE_HTTPS_RELOAD_INTERVAL", 0.1)
        app = create_app(url, **config)
        made.append(app)
        return app

    yield make
    for app in made:
        source(app).close()


def source(app: Flask) -> StoreSource:
    found = app.extensions["enforce_https"].source
    assert isinstance(found, StoreSource)
    return found


def plain_status(app: Flask) -> int:
    """What a plain-HTTP request to an open screen gets."""
    return app.test_client().get("/").status_code


def write(store: Store, document: dict[str, t.Any]) -> int:
    head_revision = store.head()
    return store.apply(
        document, head_revision.number if head_revision else 0, "t", "cli"
    )


def test_an_app_starts_with_the_revision_in_force(
    store: Store, store_url: str, apps: Callable[..., Flask], tmp_path: Path
) -> None:
    number = write(store, SCREENS)
    app = apps(store_url)
    assert source(app).revision == number
    assert plain_status(app) == 301
    cached = json.loads((tmp_path / "cache.json").read_text())
    assert (cached["revision"], cached["document"]) == (number, SCREENS)


def test_a_new_revision_is_applied_by_the_poller(
    store: Store, store_url: str, apps: Callable[..., Flask]
) -> None:
    write(store, OPEN)
    app = apps(store_url)
    applied: list[str] = []
    signals.settings_applied.connect(
        lambda sender, source, settings: applied.append(source), app, weak=False
    )
    assert plain_status(app) == 200  # and the poller starts
    number = write(store, SCREENS)
    wait_for(lambda: source(app).revision == number)
    assert plain_status(app) == 301
    assert applied == [str(store.url)]
    assert "s3cret" not in source(app).status().source


def test_postgresql_notifies_every_process_at_once(
    postgresql_url: str, apps: Callable[..., Flask]
) -> None:
    with Store(postgresql_url) as store:
        store.init()
        write(store, OPEN)
        # Polls are a minute apart: only the notification can be this fast.
        app = apps(postgresql_url, ENFORCE_HTTPS_RELOAD_INTERVAL=60)
        plain_status(app)
        wait_for(lambda: source(app)._poller is not None)
        time.sleep(0.3)  # the poller LISTENs
        number = write(store, SCREENS)
        took = wait_for(lambda: source(app).revision == number, timeout=3)
    assert took < 1.0
    assert plain_status(app) == 301


def test_a_process_beats_with_its_revision(
    store: Store, store_url: str, apps: Callable[..., Flask]
) -> None:
    number = write(store, OPEN)
    app = apps(store_url)
    plain_status(app)
    wait_for(lambda: bool(store.status().processes))
    (process,) = store.status().processes
    assert (process.pid, process.application, process.revision) == (
        os.getpid(),
        "shop",
        number,
    )


def newer_schema(store: Store) -> None:
    store.init()
    with store._engine.begin() as connection:
        connection.execute(meta.update().values(value=str(SCHEMA_VERSION + 1)))


@pytest.mark.parametrize(
    ("prepare", "words"),
    [
        pytest.param(lambda store: None, "flask https store init", id="no-tables"),
        pytest.param(newer_schema, "upgrade flask-enforce-https", id="newer"),
    ],
)
def test_a_store_it_cannot_read_stops_the_app_with_what_to_do(
    bare_store: Store,
    store_url: str,
    apps: Callable[..., Flask],
    prepare: Callable[[Store], None],
    words: str,
) -> None:
    prepare(bare_store)
    with pytest.raises(SchemaError, match=words):
        apps(store_url)


def test_a_store_command_loads_the_app_without_touching_the_store(
    bare_store: Store, store_url: str, apps: Callable[..., Flask]
) -> None:
    with loading_for(Purpose.STORE_COMMAND):
        app = apps(store_url)
    assert source(app).revision == 0
    assert bare_store.schema_version() is None


def test_an_invalid_revision_in_force_stops_the_app_naming_it(
    store: Store, store_url: str, apps: Callable[..., Flask], raw: sa.Engine
) -> None:
    number = write(store, SCREENS)
    with raw.begin() as connection:
        connection.execute(
            revisions.update()
            .where(revisions.c.revision == number)
            .values(document=json.dumps({"environment": {"hsts_max_age": -1}}))
        )
    with pytest.raises(SettingsError, match=rf"revision {number}.*hsts_max_age"):
        apps(store_url)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"environment": {"hsts": "yes"}}), id="invalid"),
    ],
)
def test_a_bad_new_revision_is_rejected_and_the_settings_stay(
    store: Store,
    store_url: str,
    apps: Callable[..., Flask],
    raw: sa.Engine,
    bad: str,
) -> None:
    number = write(store, SCREENS)
    app = apps(store_url)
    rejected: list[SettingsError] = []
    signals.settings_rejected.connect(
        lambda sender, source, error: rejected.append(error), app, weak=False
    )
    plain_status(app)
    with raw.begin() as connection:  # a revision written by hand
        connection.execute(
            revisions.insert().values(
                revision=number + 1,
                document=bad,
                author="hand",
                origin="cli",
                created_at=sa.func.current_timestamp(),
            )
        )
        connection.execute(head.update().values(revision=number + 1))
    wait_for(lambda: bool(rejected))
    time.sleep(0.3)  # more polls: still one rejection
    assert len(rejected) == 1
    assert source(app).revision == number
    assert plain_status(app) == 301
    assert source(app).status().state.startswith("stale:")
    good = store.apply(OPEN, number + 1, "t", "cli")
    wait_for(lambda: source(app).revision == good)
    assert source(app).status().state == f"ok, revision {good}"


def test_an_outage_keeps_the_settings_and_is_said_once(
    sqlite_store: Store,
    apps: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # PostgreSQL outages, under load and through a cut proxy: test_faults.py
    store, store_url = sqlite_store, str(sqlite_store.url)
    number = write(store, SCREENS)
    app = apps(store_url)
    events: list[str] = []
    signals.store_unreachable.connect(
        lambda sender, **kw: events.append("down"), app, weak=False
    )
    signals.store_reachable.connect(
        lambda sender, **kw: events.append("up"), app, weak=False
    )
    plain_status(app)
    path = Path(str(store.url.url.database))
    caplog.set_level(logging.WARNING, "flask_enforce_https")
    path.rename(path.with_suffix(".away"))
    try:
        wait_for(lambda: source(app).down_since is not None)
        time.sleep(0.5)  # several more tries
        assert plain_status(app) == 301
        assert "has not answered since" in source(app).status().state
    finally:
        path.with_suffix(".away").rename(path)
    wait_for(lambda: source(app).down_since is None, timeout=15)
    assert events == ["down", "up"]
    said = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(said) == 1
    assert source(app).revision == number
    newer = write(store, OPEN)
    wait_for(lambda: source(app).revision == newer)


def test_a_store_down_at_start_uses_the_cache(
    tmp_path: Path, apps: Callable[..., Flask], sqlite_store: Store
) -> None:
    store, store_url = sqlite_store, str(sqlite_store.url)
    write(store, SCREENS)
    apps(store_url)  # writes the cache
    cache = json.loads((tmp_path / "cache.json").read_text())
    cache["store"] = str(Store(DOWN).url)
    (tmp_path / "cache.json").write_text(json.dumps(cache))
    app = apps(DOWN)
    assert plain_status(app) == 301
    state = source(app).status().state
    assert "has not answered since" in state
    assert "s3cret" not in state


def test_a_store_down_at_start_without_cache_stops_the_app(
    tmp_path: Path, apps: Callable[..., Flask]
) -> None:
    with pytest.raises(StoreError) as caught:
        apps(DOWN)
    message = str(caught.value)
    assert "cannot start without its settings" in message
    assert str(tmp_path / "cache.json") in message
    assert "s3cret" not in message


def test_the_cache_of_another_store_is_refused(
    tmp_path: Path, apps: Callable[..., Flask]
) -> None:
    (tmp_path / "cache.json").write_text(
        json.dumps({"store": "sqlite:////elsewhere.db", "revision": 3, "document": {}})
    )
    with pytest.raises(SettingsError, match="the cache of another store"):
        apps(DOWN)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        pytest.param(
            {"ENFORCE_HTTPS_STORE_LISTEN": "yes"},
            "ENFORCE_HTTPS_STORE_LISTEN",
            id="listen",
        ),
        pytest.param(
            {"ENFORCE_HTTPS_SETTINGS_CACHE": 3},
            "ENFORCE_HTTPS_SETTINGS_CACHE",
            id="cache",
        ),
    ],
)
def test_bad_store_config_names_the_key(
    store_url: str, apps: Callable[..., Flask], config: dict[str, t.Any], key: str
) -> None:
    with pytest.raises(ConfigurationError, match=key):
        apps(store_url, **config)


def test_a_store_url_it_cannot_use_names_the_key(apps: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigurationError, match="ENFORCE_HTTPS_SETTINGS"):
        apps("sqlite:///:memory:")


@pytest.mark.parametrize(
    ("backend", "parent_polls"),
    [
        pytest.param("sqlite", False, id="sqlite-preload"),
        pytest.param("postgresql", False, id="pg-preload"),
        # SQLite forbids carrying a connection across a fork, and a fork
        # may land inside one of the parent poller's reads: PostgreSQL only.
        pytest.param("postgresql", True, id="pg-parent-polling"),
    ],
)
def test_a_forked_child_polls_on_its_own(
    request: pytest.FixtureRequest,
    apps: Callable[..., Flask],
    backend: str,
    parent_polls: bool,
) -> None:
    """As under ``gunicorn --preload``: the app is loaded, then forked; the
    child starts its own poller. A parent whose poller runs when it forks
    works too, on PostgreSQL."""
    store: Store = request.getfixturevalue(f"{backend}_store")
    store_url = str(store.url)
    write(store, OPEN)
    app = apps(store_url)
    if parent_polls:
        plain_status(app)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            plain_status(app)
            deadline = time.monotonic() + 10
            while source(app).revision < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.write(writer, str(source(app).revision).encode())
        finally:
            os._exit(0)
    os.close(writer)
    time.sleep(0.3)
    write(store, SCREENS)
    child = os.read(reader, 16).decode()
    os.close(reader)
    os.waitpid(pid, 0)
    assert child == "2"
    plain_status(app)
    wait_for(lambda: source(app).revision == 2)


def test_the_poller_starts_on_the_first_request_not_at_init(
    sqlite_store: Store, apps: Callable[..., Flask]
) -> None:
    """So that a ``gunicorn --preload`` master, which loads the app and
    serves nothing, neither polls nor beats."""
    app = apps(str(sqlite_store.url))
    assert source(app)._poller is None
    plain_status(app)
    assert source(app)._poller is not None


def test_starting_from_the_cache_is_signalled(
    tmp_path: Path, apps: Callable[..., Flask], sqlite_store: Store
) -> None:
    write(sqlite_store, SCREENS)
    apps(str(sqlite_store.url))  # writes the cache
    cache = json.loads((tmp_path / "cache.json").read_text())
    cache["store"] = str(Store(DOWN).url)
    (tmp_path / "cache.json").write_text(json.dumps(cache))
    heard: list[float] = []

    def listen(sender: Flask, **kwargs: t.Any) -> None:
        heard.append(kwargs["since"])

    with signals.store_unreachable.connected_to(listen):
        apps(DOWN)
    assert len(heard) == 1


def test_a_malformed_head_at_start_stops_the_app(
    store: Store, store_url: str, apps: Callable[..., Flask], raw: sa.Engine
) -> None:
    write(store, SCREENS)
    break_head(raw, 2, "not json")
    with pytest.raises(SettingsError, match="revision 2 is not a JSON document"):
        apps(store_url)


def test_a_bad_head_yields_the_newest_valid_revision_under_it(
    store: Store, store_url: str, apps: Callable[..., Flask], raw: sa.Engine
) -> None:
    """Every process enforces the same revision, whenever it polled: one
    that last saw revision 1 applies revision 2 when revision 3 is bad."""
    write(store, OPEN)
    with loading_for(Purpose.COMMAND):
        app = apps(store_url)
    write(store, SCREENS)
    break_head(raw, 3, json.dumps({"environment": {"hsts": "yes"}}))
    source(app).refresh()
    assert source(app).revision == 2
    assert plain_status(app) == 301
    assert source(app).status().state.startswith("stale:")
    source(app).refresh()  # the bad head is not read again
    assert source(app).revision == 2
