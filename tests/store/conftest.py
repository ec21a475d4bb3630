"""Fixtures of the settings store's tests: one store per test, on SQLite
(a file in tmp_path) and on PostgreSQL (a schema of its own, dropped after).

PostgreSQL is the server every machine of the project runs at
127.0.0.1:5432, or the one ``ENFORCE_HTTPS_TEST_DATABASE_URL`` names. Where
none answers, its tests skip with a reason starting "NOT TESTED"; with
``CI`` set they fail.
"""

from __future__ import annotations

import datetime
import os
import secrets
import typing as t
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from test_stack import unavailable

from flask_enforce_https.store import Store, parse_url
from flask_enforce_https.store.writer import StoreWriter
from flask_enforce_https.writers import FileWriter, SettingsWriter

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get("ENFORCE_HTTPS_TEST_DATABASE_URL", DEFAULT_DATABASE_URL)


class Clock:
    """A clock the test moves: the store's times come from it."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.timezone.utc)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, delta: datetime.timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[sa.Engine]:
    """An engine on the test server, or a loud skip (a failure on CI)."""
    url = database_url()
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as e:
        engine.dispose()
        reason = " ".join(str(e.orig).split())
        unavailable(
            f"no PostgreSQL server answers at {sa.make_url(url)!r} ({reason}):"
            " the PostgreSQL store is not tested. Start one (.ci/run does) or"
            " set ENFORCE_HTTPS_TEST_DATABASE_URL"
        )
    yield engine
    engine.dispose()


@pytest.fixture
def postgresql_schema(postgresql_engine: sa.Engine) -> Iterator[str]:
    """A new, empty PostgreSQL schema, dropped with all it holds after."""
    name = f"enforce_https_test_{secrets.token_hex(6)}"
    with postgresql_engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    yield name
    with postgresql_engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))


@pytest.fixture
def postgresql_url(postgresql_schema: str) -> str:
    """A store URL for a fresh PostgreSQL schema."""
    return f"{database_url()}?schema={postgresql_schema}"


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="pg")]
)
def store_url(request: pytest.FixtureRequest, tmp_path: t.Any) -> str:
    """A URL for a store with no tables yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/settings.db"
    return t.cast(str, request.getfixturevalue("postgresql_url"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bare_store(store_url: str, clock: Clock) -> Iterator[Store]:
    """A store whose tables do not exist yet."""
    with Store(store_url, clock=clock) as store:
        yield store


@pytest.fixture
def store(bare_store: Store) -> Store:
    """A store with its tables, and no revision."""
    bare_store.init()
    return bare_store


def raw_engine(url: str) -> sa.Engine:
    """An engine on a store's database, for the tests to look behind the
    API; its tables are placed in the store's schema."""

    parsed = parse_url(url)
    engine = sa.create_engine(parsed.url)
    if parsed.schema:
        engine = engine.execution_options(schema_translate_map={None: parsed.schema})
    return engine


@pytest.fixture
def raw(store_url: str) -> Iterator[sa.Engine]:
    """:func:`raw_engine` for the store of the test."""
    engine = raw_engine(store_url)
    yield engine
    engine.dispose()


WRITERS = [
    pytest.param("toml", id="file-toml"),
    pytest.param("json", id="file-json"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="pg"),
]


@pytest.fixture(params=WRITERS)
def writer(
    request: pytest.FixtureRequest, tmp_path: t.Any, clock: Clock
) -> Iterator[SettingsWriter]:
    """A writer of empty settings: a settings file with its audit log, or a
    store with its tables and no revision."""
    kind = request.param
    if kind in ("toml", "json"):
        path = tmp_path / f"settings.{kind}"
        path.write_text(
            "[environment]\n" if kind == "toml" else '{"environment": {}}\n', "utf-8"
        )
        yield FileWriter(path, tmp_path / "settings.audit.jsonl")
        return
    url = (
        f"sqlite:///{tmp_path}/settings.db"
        if kind == "sqlite"
        else t.cast(str, request.getfixturevalue("postgresql_url"))
    )
    with Store(url, clock=clock) as store:
        store.init()
        yield StoreWriter(store)


#: Heads an administrator might make by hand, by what is wrong with them:
#: the text of the revision they name, or ``None`` for a revision that does
#: not exist.
BAD_HEADS = [
    pytest.param("not json", id="not-json"),
    pytest.param('{"environment": {"hsts": "yes"}}', id="invalid-settings"),
    pytest.param(None, id="missing-revision"),
]


def break_head(engine: sa.Engine, number: int, text: str | None) -> None:
    """Make revision ``number`` the head by hand, behind the API: with
    ``text`` as its document, or naming no revision when ``text`` is
    ``None``."""
    from flask_enforce_https.store.schema import head, revisions

    with engine.begin() as connection:
        if text is not None:
            connection.execute(
                revisions.insert().values(
                    revision=number,
                    document=text,
                    author="hand",
                    origin="cli",
                    created_at=datetime.datetime.now(datetime.timezone.utc),
                )
            )
        connection.execute(head.update().values(revision=number))
