"""The store's contract, on SQLite and PostgreSQL alike: revisions, the
head's compare-and-swap, audit rows, revert, history and heartbeats."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from flask_enforce_https.errors import SettingsError
from flask_enforce_https.store import (
    EXPIRE_AFTER,
    ConflictError,
    RevisionNotFoundError,
    Store,
)
from flask_enforce_https.store.heartbeats import PRUNE_AFTER
from flask_enforce_https.store.schema import audit, heartbeats, revisions

from .conftest import Clock

HSTS = {"environment": {"hsts": True}}
COOKIES = {"environment": {"secure_cookies": True}}
BOTH = {"environment": {"hsts": True, "secure_cookies": True}}
SHOP = {
    "environment": {"hsts": True},
    "applications": {"shop": {"force_https_screens": True}},
}


def count(raw: sa.Engine, table: sa.Table) -> int:
    with raw.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0


def test_an_empty_store_has_no_head(store: Store) -> None:
    assert store.head() is None
    assert store.history() == []
    assert store.status().head is None


def test_apply_makes_a_revision_the_head(store: Store, clock: Clock) -> None:
    assert store.apply(HSTS, 0, "alice", "cli", "tighten") == 1
    head = store.head()
    assert head is not None
    assert (head.number, head.document, head.author) == (1, HSTS, "alice")
    assert (head.origin, head.reason) == ("cli", "tighten")
    assert head.created_at == clock.now
    assert head.created_at.tzinfo == datetime.timezone.utc
    assert store.revision(1) == head
    assert store.apply(SHOP, 1, "bob", "console") == 2
    assert store.revision(1) == head
    assert store.head() == store.revision(2)


def test_the_document_kept_is_the_whole_one_as_written(store: Store) -> None:
    document = {
        "environment": {
            "hsts": True,
            "hsts_excluded_hosts": ["LocalHost", "[::1]"],
            "trusted_proxies": ["10.0.0.0/8"],
        },
        "applications": {"shop.web": {"exempt_paths": ["/healthz"]}},
    }
    store.apply(document, 0, "alice", "import")
    head = store.head()
    assert head is not None
    assert head.document == document


def test_the_same_document_again_writes_nothing(store: Store, raw: sa.Engine) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    assert store.apply({"environment": {"hsts": True}}, 1, "bob", "cli") == 1
    assert count(raw, revisions) == 1
    head = store.head()
    assert head is not None
    assert head.author == "alice"


@pytest.mark.parametrize(
    ("document", "key"),
    [
        pytest.param({"environment": {"hsts": "yes"}}, "environment.hsts", id="value"),
        pytest.param({"environment": {"hstss": True}}, "environment.hstss", id="key"),
        pytest.param(
            {"applications": {"shop": {"hsts": True}}},
            "applications.shop.hsts",
            id="environment-only-key",
        ),
        pytest.param({"environment": {"exempt_paths": ["/"]}}, "exempt_paths", id="/"),
        pytest.param([], "", id="not-a-table"),
    ],
)
def test_an_invalid_document_is_refused_and_nothing_written(
    store: Store, raw: sa.Engine, document: object, key: str
) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    with pytest.raises(SettingsError, match="new revision") as caught:
        store.apply(document, 1, "mallory", "cli")  # type: ignore[arg-type]
    assert key in str(caught.value)
    assert count(raw, revisions) == 1
    assert count(raw, audit) == 1
    head = store.head()
    assert head is not None
    assert head.number == 1


def test_an_unknown_origin_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="origin"):
        store.apply(HSTS, 0, "alice", "api")


def test_the_second_writer_against_the_same_revision_gets_a_conflict(
    store: Store, raw: sa.Engine
) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    assert store.apply(BOTH, 1, "bob", "cli") == 2
    with pytest.raises(ConflictError) as caught:
        store.apply({}, 1, "carol", "console")
    error = caught.value
    assert (error.expected, error.current, error.author) == (1, 2, "bob")
    assert "revision 2 by bob is in force" in str(error)
    assert "nothing was written" in str(error)
    assert count(raw, revisions) == 2
    assert count(raw, audit) == 2


def test_nothing_is_lost_when_the_loser_applies_again(store: Store) -> None:
    # Both read revision 0; alice wins; bob's tool rebuilds on the head.
    store.apply(HSTS, 0, "alice", "cli")
    with pytest.raises(ConflictError) as caught:
        store.apply(COOKIES, 0, "bob", "cli")
    head = store.revision(caught.value.current)
    document = {"environment": {**head.document["environment"], "secure_cookies": True}}
    assert store.apply(document, caught.value.current, "bob", "cli") == 2
    assert store.revision(2).document == BOTH
    assert [(e.user, e.key, e.revision) for e in store.history()] == [
        ("alice", "hsts", 1),
        ("bob", "secure_cookies", 2),
    ]


def test_history_has_a_row_per_changed_key(store: Store, clock: Clock) -> None:
    first = clock.now
    store.apply(SHOP, 0, "alice", "cli", "first")
    clock.advance(datetime.timedelta(minutes=5))
    store.apply(
        {
            "environment": {"hsts": False},
            "applications": {"api": {"secure_cookies": True}},
        },
        1,
        "bob",
        "console",
    )
    rows = [e.as_dict() for e in store.history()]
    stamp = first.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert rows[0] == {
        "time": stamp,
        "user": "alice",
        "scope": "environment",
        "key": "hsts",
        "old": None,
        "new": True,
        "revision": 1,
        "origin": "cli",
        "reason": "first",
    }
    assert [
        (r["revision"], r["scope"], r["key"], r["old"], r["new"]) for r in rows
    ] == [
        (1, "environment", "hsts", None, True),
        (1, "shop", "force_https_screens", None, True),
        (2, "environment", "hsts", True, False),
        (2, "api", "secure_cookies", None, True),
        (2, "shop", "force_https_screens", True, None),
    ]
    assert {e.time for e in store.history(since=1)} == {clock.now}
    assert [e.revision for e in store.history(since=2)] == []


def test_revert_applies_an_old_document_as_a_new_revision(store: Store) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    store.apply(SHOP, 1, "bob", "cli")
    assert store.revert(1, 2, "carol", "the shop broke") == 3
    head = store.head()
    assert head is not None
    assert (head.document, head.author, head.origin) == (HSTS, "carol", "revert")
    assert head.reason == "revert to revision 1: the shop broke"
    assert store.revision(2).document == SHOP
    assert [(e.scope, e.key, e.old, e.new) for e in store.history(since=2)] == [
        ("shop", "force_https_screens", True, None)
    ]


def test_revert_checks_the_head_too(store: Store) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    store.apply(SHOP, 1, "bob", "cli")
    with pytest.raises(ConflictError, match="revision 2 by bob"):
        store.revert(1, 1, "carol")


def test_a_missing_revision_is_named(store: Store) -> None:
    with pytest.raises(RevisionNotFoundError, match="no revision 1: the store has no"):
        store.revision(1)
    store.apply(HSTS, 0, "alice", "cli")
    with pytest.raises(
        RevisionNotFoundError, match="no revision 7: revisions are 1 to 1"
    ):
        store.revert(7, 1, "carol")


def test_heartbeats_are_upserted_one_row_per_process(
    store: Store, raw: sa.Engine, clock: Clock
) -> None:
    store.apply(HSTS, 0, "alice", "cli")
    store.heartbeat("web1", 100, "shop", 0)
    clock.advance(datetime.timedelta(seconds=30))
    store.heartbeat("web1", 100, "shop", 1)
    store.heartbeat("web2", 200, "shop", 0)
    assert count(raw, heartbeats) == 2
    status = store.status()
    assert status.head is not None
    assert status.head.number == 1
    assert [
        (p.host, p.pid, p.application, p.revision, p.seen_at) for p in status.processes
    ] == [
        ("web1", 100, "shop", 1, clock.now),
        ("web2", 200, "shop", 0, clock.now),
    ]
    assert [p.host for p in status.behind] == ["web2"]


def test_processes_not_seen_for_several_periods_leave_the_status(
    store: Store, raw: sa.Engine, clock: Clock
) -> None:
    store.heartbeat("web1", 100, "shop", 0)
    clock.advance(EXPIRE_AFTER / 2)
    store.heartbeat("web2", 200, "shop", 0)
    clock.advance(EXPIRE_AFTER / 2 + datetime.timedelta(seconds=1))
    assert [p.host for p in store.status().processes] == ["web2"]
    assert [p.host for p in store.status(EXPIRE_AFTER * 2).processes] == [
        "web1",
        "web2",
    ]
    # Rows long gone are deleted by the next heartbeat of anyone.
    clock.advance(PRUNE_AFTER)
    store.heartbeat("web3", 300, "shop", 0)
    assert count(raw, heartbeats) == 1
