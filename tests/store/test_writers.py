"""One writer interface, four backends: a TOML file, a JSON file, a SQLite
store and a PostgreSQL store read, change, refuse, revert and tell their
history alike, so that the command line and the console need not care
which holds the settings.

The console's flow is the one a conflict protects: read the settings and
their version, let the administrator review them, then apply with that
version; if someone changed the settings in between, the apply is refused,
naming the other change, and nothing is written.
"""

from __future__ import annotations

import datetime
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa

from flask_enforce_https.edits import Change
from flask_enforce_https.errors import ConflictError, RevisionError, SettingsError
from flask_enforce_https.layout import section
from flask_enforce_https.store import Store
from flask_enforce_https.store.writer import StoreWriter
from flask_enforce_https.writers import SettingsWriter

from .conftest import BAD_HEADS, break_head

ENV = "environment"


def settings(writer: SettingsWriter, scope: str = ENV) -> dict[str, t.Any]:
    return section(writer.read().document, scope)


def entries(writer: SettingsWriter) -> list[tuple[t.Any, ...]]:
    """The history as (revision, user, scope, key, old, new, origin, reason)."""
    found = writer.history()
    assert found.skipped == []
    return [
        (e.revision, e.user, e.scope, e.key, e.old, e.new, e.origin, e.reason)
        for e in found.entries
    ]


def test_a_change_applies_against_the_version_read(writer: SettingsWriter) -> None:
    first = writer.read()
    assert section(first.document, ENV) == {}
    outcome = writer.change(
        ENV, {"hsts": True}, expected=first.version, author="alice", reason="rollout"
    )
    assert outcome.changes == [Change(ENV, "hsts", None, True)]
    assert outcome.revision == 1
    now = writer.read()
    assert section(now.document, ENV) == {"hsts": True}
    assert now.version == outcome.version != first.version
    outcome = writer.change(
        "shop", {"force_https_screens": True}, expected=now.version, author="bob"
    )
    assert outcome.revision == 2
    assert settings(writer, "shop") == {"force_https_screens": True}


def test_the_history_has_every_field_per_changed_key(writer: SettingsWriter) -> None:
    before = datetime.datetime.now(datetime.timezone.utc)
    writer.change(
        ENV,
        {"hsts": True, "exempt_paths": ["/healthz"]},
        expected=None,
        author="alice",
        reason="rollout",
    )
    writer.change(ENV, {"hsts": None}, expected=None, author="bob", origin="console")
    assert sorted(entries(writer)) == [
        (1, "alice", ENV, "exempt_paths", None, ["/healthz"], "cli", "rollout"),
        (1, "alice", ENV, "hsts", None, True, "cli", "rollout"),
        (2, "bob", ENV, "hsts", True, None, "console", None),
    ]
    for entry in writer.history().entries:
        # Aware, UTC, and now (a store's clock is the test's, which is now).
        assert entry.time.utcoffset() == datetime.timedelta(0)
        assert abs(entry.time - before) < datetime.timedelta(minutes=1)
        assert set(entry.as_dict()) == {
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


def test_a_change_that_changes_nothing_writes_nothing(writer: SettingsWriter) -> None:
    writer.change(ENV, {"hsts": True}, expected=None, author="alice")
    before = writer.read()
    outcome = writer.change(ENV, {"hsts": True}, expected=before.version, author="bob")
    assert (outcome.changes, outcome.revision) == ([], None)
    assert outcome.version == before.version
    assert writer.read() == before
    assert len(entries(writer)) == 1


def test_unset_removes_keys_and_an_emptied_application(writer: SettingsWriter) -> None:
    writer.change(
        "shop", {"force_https_screens": True, "secure_cookies": True}, expected=None
    )
    outcome = writer.change("shop", {"force_https_screens": None}, expected=None)
    assert outcome.changes == [Change("shop", "force_https_screens", True, None)]
    assert settings(writer, "shop") == {"secure_cookies": True}
    writer.change("shop", {"secure_cookies": None}, expected=None)
    assert "shop" not in writer.read().document.get("applications", {})


def test_a_change_against_an_old_version_is_refused_naming_the_other(
    writer: SettingsWriter,
) -> None:
    page = writer.read()  # the console loads its page; bob applies first
    writer.change(ENV, {"hsts": True}, expected=page.version, author="bob", reason="b")
    after_bob = writer.read()
    with pytest.raises(ConflictError) as caught:
        writer.change(
            ENV, {"secure_cookies": True}, expected=page.version, author="alice"
        )
    assert writer.read() == after_bob
    assert len(entries(writer)) == 1
    error = caught.value
    assert (error.expected_version, error.current_version) == (
        page.version,
        after_bob.version,
    )
    assert error.author == "bob"
    assert "revision 1 by bob" in str(error)
    assert "nothing was written" in str(error)
    assert [(c.revision, c.user, c.key, c.new, c.reason) for c in error.changes] == [
        (1, "bob", "hsts", True, "b")
    ]
    # Nothing is lost: alice applies hers again, against what is there now.
    writer.change(
        ENV, {"secure_cookies": True}, expected=error.current_version, author="alice"
    )
    assert settings(writer) == {"hsts": True, "secure_cookies": True}


@pytest.mark.parametrize(
    ("values", "words"),
    [
        pytest.param({"exempt_paths": ["healthz"]}, ["exempt_paths"], id="value"),
        pytest.param({"hsts_max_age": "long"}, ["hsts_max_age"], id="type"),
        pytest.param({"no_such_key": True}, ["no_such_key"], id="unknown-key"),
    ],
)
def test_invalid_settings_are_refused_whole(
    writer: SettingsWriter, values: dict[str, object], words: list[str]
) -> None:
    writer.change(ENV, {"hsts": True}, expected=None, author="alice")
    before = writer.read()
    with pytest.raises(SettingsError) as caught:
        writer.change(ENV, {"secure_cookies": True, **values}, expected=before.version)
    for word in words:
        assert word in str(caught.value)
    assert writer.read() == before
    assert len(entries(writer)) == 1


def test_revert_brings_back_the_settings_right_after_a_revision(
    writer: SettingsWriter,
) -> None:
    writer.change(ENV, {"hsts": True}, expected=None, author="alice")
    writer.change(ENV, {"hsts_max_age": 600}, expected=None, author="bob")
    writer.change("shop", {"secure_cookies": True}, expected=None, author="bob")
    writer.change(ENV, {"hsts": False}, expected=None, author="carol")
    now = writer.read()
    outcome = writer.revert(1, expected=now.version, author="dave", reason="too soon")
    assert outcome.revision == 5
    assert settings(writer) == {"hsts": True}
    assert "shop" not in writer.read().document.get("applications", {})
    assert sorted((c.scope, c.key, c.old, c.new) for c in outcome.changes) == [
        (ENV, "hsts", False, True),
        (ENV, "hsts_max_age", 600, None),
        ("shop", "secure_cookies", True, None),
    ]
    revert = [e for e in entries(writer) if e[0] == 5]
    assert {(e[1], e[6], e[7]) for e in revert} == {
        ("dave", "revert", "revert to revision 1: too soon")
    }
    # Reverting to the revert itself changes nothing.
    assert writer.revert(5, expected=None).revision is None


def test_revert_to_an_unknown_revision_is_refused(writer: SettingsWriter) -> None:
    with pytest.raises(RevisionError, match="no revision 1"):
        writer.revert(1, expected=None)
    writer.change(ENV, {"hsts": True}, expected=None)
    before = writer.read()
    with pytest.raises(RevisionError, match="no revision 7: revisions are 1 to 1"):
        writer.revert(7, expected=None)
    assert writer.read() == before


def test_revert_against_an_old_version_is_refused(writer: SettingsWriter) -> None:
    writer.change(ENV, {"hsts": True}, expected=None, author="alice")
    page = writer.read()
    writer.change(ENV, {"hsts": False}, expected=None, author="bob")
    after_bob = writer.read()
    with pytest.raises(ConflictError, match="revision 2 by bob"):
        writer.revert(1, expected=page.version, author="alice")
    assert writer.read() == after_bob


def test_known_applications_are_those_the_settings_name(
    writer: SettingsWriter,
) -> None:
    assert writer.known_applications() == set()
    writer.change("shop", {"secure_cookies": True}, expected=None)
    writer.change("blog", {"secure_cookies": True}, expected=None)
    assert writer.known_applications() == {"shop", "blog"}


# -- the store's own -----------------------------------------------------------


def test_a_store_knows_the_applications_that_read_it(store: Store) -> None:
    writer = StoreWriter(store)
    store.heartbeat("web1", 4211, "storefront", 0)
    writer.change("shop", {"secure_cookies": True}, expected=None)
    assert writer.known_applications() == {"shop", "storefront"}


def test_a_store_refuses_a_version_that_is_no_revision(store: Store) -> None:
    writer = StoreWriter(store)
    writer.change(ENV, {"hsts": True}, expected=None)
    with pytest.raises(ConflictError, match="not a revision of this store") as caught:
        writer.change(ENV, {"hsts": False}, expected="sha256:00")
    assert caught.value.current_version == "1"
    assert settings(writer) == {"hsts": True}


def test_a_store_writer_names_the_store_without_its_password(tmp_path: Path) -> None:
    with Store("postgresql+psycopg://admin:s3cret@127.0.0.1/ops") as store:
        writer = StoreWriter(store)
        assert writer.where == "postgresql+psycopg://admin:***@127.0.0.1/ops"


class Interloper:
    """A store clock that, once armed, has bob write a revision the first
    time it is read: between the moment a writer read the head and the
    moment it moves it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.armed = False

    def __call__(self) -> datetime.datetime:
        if self.armed:
            self.armed = False
            with Store(self.url) as other:
                StoreWriter(other).change(
                    ENV, {"hsts": True}, expected=None, author="bob"
                )
        return datetime.datetime.now(datetime.timezone.utc)


def test_a_change_against_whatever_is_in_force_is_made_again_on_the_newer(
    postgresql_url: str,
) -> None:
    clock = Interloper(postgresql_url)
    with Store(postgresql_url, clock=clock) as store:
        store.init()
        writer = StoreWriter(store)
        clock.armed = True
        outcome = writer.change(
            ENV, {"secure_cookies": True}, expected=None, author="alice"
        )
        assert outcome.revision == 2
        assert settings(writer) == {"hsts": True, "secure_cookies": True}
        assert [(e.revision, e.user, e.key) for e in writer.history().entries] == [
            (1, "bob", "hsts"),
            (2, "alice", "secure_cookies"),
        ]


@pytest.mark.parametrize("bad", BAD_HEADS)
def test_a_change_over_a_bad_head_mends_it(
    store: Store, raw: sa.Engine, bad: str | None
) -> None:
    """A head changed by hand into a bad one is read as the newest valid
    revision under it, which every process enforces meanwhile: a change
    is made on that and becomes the new head."""
    store.apply({"environment": {"hsts": True, "hsts_max_age": 600}}, 0, "a", "cli")
    store.apply({"environment": {"hsts": True}}, 1, "a", "cli")
    break_head(raw, 3, bad)
    writer = StoreWriter(store)
    assert writer.read().version == "3"
    assert writer.read().document == {"environment": {"hsts": True}}

    outcome = writer.change(ENV, {"secure_cookies": True}, expected="3")

    assert outcome.revision == 4
    head = store.head()
    assert head is not None
    assert head.document == {"environment": {"hsts": True, "secure_cookies": True}}
    # Against a bad head, every key is new.
    assert [(e.key, e.old, e.new) for e in store.history(since=3)] == [
        ("hsts", None, True),
        ("secure_cookies", None, True),
    ]


def test_a_writer_behind_a_missing_head_gets_a_conflict(
    store: Store, raw: sa.Engine
) -> None:
    store.apply({"environment": {"hsts": True}}, 0, "a", "cli")
    break_head(raw, 5, None)
    with pytest.raises(ConflictError, match="revision 5"):
        StoreWriter(store).change(ENV, {"hsts": False}, expected="1")
