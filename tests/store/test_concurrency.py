"""Two writers racing: the head's compare-and-swap lets exactly one win,
the other gets a ConflictError naming the winner's revision, and nothing is
lost. On PostgreSQL also: a write notifies, on commit only; and the GRANTs
docs/store.rst prints are enough for each role, and no more."""

from __future__ import annotations

import functools
import secrets
import threading
import time
import typing as t
from collections.abc import Callable, Iterator

import psycopg
import pytest
import sqlalchemy as sa

from flask_enforce_https.store import (
    NOTIFY_CHANNEL,
    ConflictError,
    Store,
    StoreError,
    grant_statements,
    notify_payload,
    parse_url,
)
from flask_enforce_https.store.schema import audit, head, revisions

#: Bounded waits, in seconds.
JOIN_TIMEOUT = 10.0
ROUNDS = 10


def race(*calls: Callable[[], int]) -> list[int | ConflictError]:
    """Run the calls at once, one thread each; their results or conflicts."""
    barrier = threading.Barrier(len(calls))
    results: list[int | ConflictError | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(JOIN_TIMEOUT)
        try:
            results[index] = calls[index]()
        except ConflictError as e:
            results[index] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
        assert not thread.is_alive()
    assert all(r is not None for r in results)
    return t.cast("list[int | ConflictError]", results)


@pytest.fixture
def writers(store: Store) -> Iterator[tuple[Store, Store]]:
    """Two stores on the same tables, with their own connections."""
    with Store(store.url) as one, Store(store.url) as two:
        yield one, two


def test_racing_writers_one_wins_one_conflicts(
    store: Store, writers: tuple[Store, Store]
) -> None:
    one, two = writers
    for expected in range(ROUNDS):
        results = race(
            functools.partial(
                one.apply,
                {"environment": {"hsts_max_age": 2 * expected + 1}},
                expected,
                "alice",
                "cli",
            ),
            functools.partial(
                two.apply,
                {"environment": {"hsts_max_age": 2 * expected + 2}},
                expected,
                "bob",
                "cli",
            ),
        )
        won = [r for r in results if isinstance(r, int)]
        lost = [r for r in results if isinstance(r, ConflictError)]
        assert won == [expected + 1], results
        assert len(lost) == 1
        assert (lost[0].expected, lost[0].current) == (expected, expected + 1)
    assert [e.revision for e in store.history()] == list(range(1, ROUNDS + 1))


def test_a_writer_waiting_on_the_head_loses_cleanly(
    postgresql_url: str,
) -> None:
    # A third party holds the head row: both writers are inside apply,
    # blocked on the UPDATE, when it lets go.
    with Store(postgresql_url) as store:
        store.init()
    url = parse_url(postgresql_url)
    locker = sa.create_engine(url.url).execution_options(
        schema_translate_map={None: url.schema}
    )
    with Store(url) as one, Store(url) as two:
        try:
            with locker.begin() as connection:
                connection.execute(sa.select(head).with_for_update())
                started = time.monotonic()
                threads_results: list[list[int | ConflictError]] = []
                racer = threading.Thread(
                    target=lambda: threads_results.append(
                        race(
                            lambda: one.apply(
                                {"environment": {"hsts": True}}, 0, "alice", "cli"
                            ),
                            lambda: two.apply(
                                {"environment": {"secure_cookies": True}},
                                0,
                                "bob",
                                "cli",
                            ),
                        )
                    )
                )
                racer.start()
                time.sleep(0.2)
                assert not threads_results  # both wait on the lock
            racer.join(JOIN_TIMEOUT)
            assert time.monotonic() - started < 5
            (results,) = threads_results
            won = [r for r in results if isinstance(r, int)]
            lost = [r for r in results if isinstance(r, ConflictError)]
            assert won == [1]
            assert len(lost) == 1
            assert lost[0].current == 1
            assert lost[0].author in ("alice", "bob")
            assert [e.revision for e in one.history()] == [1]
        finally:
            locker.dispose()


def test_a_write_notifies_its_revision_on_commit(postgresql_url: str) -> None:
    url = parse_url(postgresql_url)
    conninfo = url.url.set(drivername="postgresql").render_as_string(
        hide_password=False
    )
    with Store(url) as store, psycopg.connect(conninfo, autocommit=True) as listener:
        store.init()
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        store.apply({"environment": {"hsts": True}}, 0, "alice", "cli")
        with pytest.raises(ConflictError):
            store.apply({"environment": {"hsts": False}}, 0, "bob", "cli")
        store.apply({"environment": {"hsts": True}}, 1, "bob", "cli")  # unchanged
        store.apply({"environment": {}}, 1, "carol", "cli")
        payloads = [n.payload for n in listener.notifies(timeout=0.5)]
    # Other stores on this server (other test runs) notify the same channel:
    # each payload names its store's schema.
    ours = [p for p in payloads if p.startswith(f"{url.schema or 'public'}:")]
    assert ours == [notify_payload(url.schema, 1), notify_payload(url.schema, 2)]


@pytest.fixture
def roles(postgresql_engine: sa.Engine) -> Iterator[tuple[str, str]]:
    """Two login roles, dropped after: an application's and an admin's."""
    token = secrets.token_hex(4)
    app, admin = f"eh_app_{token}", f"eh_admin_{token}"
    with postgresql_engine.begin() as connection:
        for role in (app, admin):
            connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
    yield app, admin
    with postgresql_engine.begin() as connection:
        for role in (app, admin):
            connection.execute(sa.text(f"DROP OWNED BY {role}"))
            connection.execute(sa.text(f"DROP ROLE {role}"))


def as_role(postgresql_url: str, role: str) -> str:
    url = parse_url(postgresql_url)
    shown = url.url.set(username=role).render_as_string(hide_password=False)
    return f"{shown}?schema={url.schema}"


def test_the_documented_grants_are_enough_and_no_more(
    postgresql_url: str, postgresql_engine: sa.Engine, roles: tuple[str, str]
) -> None:
    app, admin = roles
    schema = parse_url(postgresql_url).schema
    assert schema is not None
    with Store(postgresql_url) as owner:
        owner.init()
    with postgresql_engine.begin() as connection:
        for statement in grant_statements(app, admin, schema):
            connection.execute(sa.text(statement))
    with Store(as_role(postgresql_url, admin)) as writer:
        writer.check()
        assert writer.apply({"environment": {"hsts": True}}, 0, admin, "cli") == 1
        assert writer.revert(1, 1, admin) == 1
        writer.apply({}, 1, admin, "console")
        assert writer.revert(1, 2, admin) == 3
        assert [e.revision for e in writer.history()] == [1, 2, 3]
        assert writer.status().head is not None
        assert writer.init() is False  # nothing to do: no privilege needed
    with Store(as_role(postgresql_url, app)) as reader:
        reader.check()
        head = reader.head()
        assert head is not None
        assert head.number == 3
        reader.heartbeat("web1", 100, "shop", 3)
        reader.heartbeat("web1", 100, "shop", 3)
        with pytest.raises(StoreError, match="permission denied"):
            reader.apply({"environment": {"hsts": False}}, 3, app, "cli")
    # Nobody but the owner may rewrite the past.
    for role in (app, admin):
        url = parse_url(as_role(postgresql_url, role))
        engine = sa.create_engine(url.url).execution_options(
            schema_translate_map={None: schema}
        )
        try:
            for statement in (
                revisions.update().values(author="x"),
                audit.delete(),
            ):
                with (
                    pytest.raises(sa.exc.ProgrammingError, match="permission"),
                    engine.begin() as connection,
                ):
                    connection.execute(statement)
        finally:
            engine.dispose()
