"""Creating, checking and migrating the store's tables: nothing but init
and upgrade creates or alters them, and a schema the code does not know is
refused with the command that fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_enforce_https.store import SCHEMA_VERSION, SchemaError, Store
from flask_enforce_https.store.schema import meta, metadata

from .conftest import Clock

INIT = "with: flask https store init"
UPGRADE = "migrate it with: flask https store upgrade"
HSTS = {"environment": {"hsts": True}}


def set_version(raw: sa.Engine, version: int) -> None:
    with raw.begin() as connection:
        connection.execute(
            meta.update()
            .where(meta.c.name == "schema_version")
            .values(value=str(version))
        )


def test_init_creates_the_tables_once(bare_store: Store, raw: sa.Engine) -> None:
    assert bare_store.init() is True
    assert bare_store.schema_version() == SCHEMA_VERSION
    bare_store.apply(HSTS, 0, "alice", "cli")
    assert bare_store.init() is False
    bare_store.check()
    assert bare_store.head() is not None
    schema = bare_store.url.schema
    names = set(sa.inspect(raw).get_table_names(schema=schema))
    assert names == {table.name for table in metadata.sorted_tables}
    assert all(name.startswith("enforce_https_") for name in names)


def test_a_store_without_tables_is_refused_with_the_command(
    bare_store: Store,
) -> None:
    with pytest.raises(SchemaError, match=INIT):
        bare_store.check()
    with pytest.raises(SchemaError, match=INIT):
        bare_store.apply(HSTS, 0, "alice", "cli")
    assert bare_store.schema_version() is None


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "settings.db"
    with Store(f"sqlite:///{path}", clock=clock) as store:
        for use in (store.check, store.head, store.history, store.status):
            with pytest.raises(SchemaError, match=INIT):
                use()
        assert not path.exists()
        store.init()
        assert path.exists()


def test_an_older_schema_is_refused_until_upgraded(
    store: Store, raw: sa.Engine
) -> None:
    set_version(raw, 0)
    with pytest.raises(SchemaError, match=f"version 0, older .*{UPGRADE}"):
        store.check()
    with pytest.raises(SchemaError, match=UPGRADE):
        store.init()
    with pytest.raises(SchemaError, match=UPGRADE):
        store.apply(HSTS, 0, "alice", "cli")
    assert store.head() is None


def test_a_newer_schema_is_refused(store: Store, raw: sa.Engine) -> None:
    set_version(raw, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaError, match=r"newer than .*upgrade flask-enforce-https"):
        store.check()
    with pytest.raises(SchemaError, match="newer"):
        store.upgrade()


def test_upgrade_runs_each_step_from_the_version_found(
    store: Store, raw: sa.Engine
) -> None:
    # A fake history: the tables are at version 0, and steps lead to 2.
    set_version(raw, 0)
    ran: list[tuple[int, str | None]] = []

    def step(version: int) -> object:
        def migrate(connection: sa.Connection, schema: str | None) -> None:
            ran.append((version, schema))
            connection.execute(
                meta.insert().values(name=f"step_{version}", value="done")
            )

        return migrate

    steps = {0: step(0), 1: step(1)}
    assert store.upgrade(steps, 2) == [1, 2]  # type: ignore[arg-type]
    assert ran == [(0, store.url.schema), (1, store.url.schema)]
    assert store.schema_version() == 2
    assert store.upgrade(steps, 2) == []  # type: ignore[arg-type]
    with raw.connect() as connection:
        names = set(connection.scalars(sa.select(meta.c.name)))
    assert {"step_0", "step_1"} <= names
    # This code knows version 1: version 2 is newer.
    with pytest.raises(SchemaError, match="newer"):
        store.check()


def test_upgrade_without_a_step_changes_nothing(store: Store, raw: sa.Engine) -> None:
    set_version(raw, 0)
    with pytest.raises(SchemaError, match="no migration from schema version 0"):
        store.upgrade()
    assert store.schema_version() == 0


def test_the_current_schema_needs_no_upgrade(store: Store) -> None:
    assert store.upgrade() == []
    store.check()


def test_upgrade_needs_tables(bare_store: Store) -> None:
    with pytest.raises(SchemaError, match=INIT):
        bare_store.upgrade()
