"""What only a settings file's writer does: number the revisions of logs
written before revisions were, refuse to revert a file edited by hand, and
tell a hand edit from a logged change in a conflict. The contract it shares
with the store is tested in tests/store/test_writers.py."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from flask_enforce_https.errors import ConflictError, RevisionError
from flask_enforce_https.writers import FileWriter

ENV = "environment"


def old_line(time: str, user: str, key: str, old: object, new: object) -> str:
    """A line as ``flask https set`` wrote it before revisions."""
    return json.dumps(
        {"time": time, "user": user, "scope": ENV, "key": key, "old": old, "new": new}
    )


@pytest.fixture
def file_writer(tmp_path: Path) -> FileWriter:
    path = tmp_path / "settings.toml"
    path.write_text("# The farm's settings\n[environment]\nhsts = false\n", "utf-8")
    return FileWriter(path, tmp_path / "settings.toml.audit.jsonl")


def numbers(writer: FileWriter) -> list[tuple[int, str, str | None, str]]:
    return [(e.revision, e.key, e.reason, e.origin) for e in writer.history().entries]


def test_lines_of_an_old_log_are_numbered_by_command(file_writer: FileWriter) -> None:
    file_writer.audit_log.write_text(
        "\n".join(
            [
                # One command wrote these two: same time, same user.
                old_line("2026-01-01T00:00:00Z", "alice", "hsts", None, True),
                old_line("2026-01-01T00:00:00Z", "alice", "hsts_max_age", None, 60),
                # Same time, another user: another command.
                old_line("2026-01-01T00:00:00Z", "bob", "hsts", True, False),
                old_line("2026-01-02T00:00:00Z", "bob", "hsts_max_age", 60, None),
            ]
        )
        + "\n",
        "utf-8",
    )
    assert numbers(file_writer) == [
        (1, "hsts", None, "cli"),
        (1, "hsts_max_age", None, "cli"),
        (2, "hsts", None, "cli"),
        (3, "hsts_max_age", None, "cli"),
    ]
    outcome = file_writer.change(ENV, {"hsts": True}, expected=None, reason="again")
    assert outcome.revision == 4
    assert numbers(file_writer)[-1] == (4, "hsts", "again", "cli")
    # A revision of the old log can be reverted to like any other.
    file_writer.revert(2, expected=None)
    assert file_writer.read().document[ENV] == {"hsts": False, "hsts_max_age": 60}
    assert "# The farm's settings" in file_writer.path.read_text("utf-8")


def test_a_line_that_is_no_audit_entry_is_skipped_and_said(
    file_writer: FileWriter,
) -> None:
    file_writer.audit_log.write_text(
        old_line("yesterday", "alice", "hsts", None, True)
        + "\n"
        + old_line("2026-01-02T00:00:00Z", "bob", "hsts", None, True)
        + "\n",
        "utf-8",
    )
    found = file_writer.history()
    assert [(e.revision, e.user) for e in found.entries] == [(1, "bob")]
    assert found.skipped == [
        f"{file_writer.audit_log}, line 1: skipped, not an audit entry (no valid time)"
    ]


def hand_edit(writer: FileWriter, old: str, new: str) -> None:
    text = writer.path.read_text("utf-8")
    assert old in text
    writer.path.write_text(text.replace(old, new), "utf-8")


def test_revert_refuses_a_file_edited_by_hand(file_writer: FileWriter) -> None:
    file_writer.change(ENV, {"hsts": True}, expected=None, author="alice")
    file_writer.change(ENV, {"hsts_max_age": 600}, expected=None, author="bob")
    hand_edit(file_writer, "hsts_max_age = 600", "hsts_max_age = 900")
    before = file_writer.path.read_bytes(), file_writer.audit_log.read_bytes()
    with pytest.raises(RevisionError) as caught:
        file_writer.revert(1, expected=None)
    message = str(caught.value)
    assert "environment.hsts_max_age is 900" in message
    assert "revision 2 made it 600" in message
    assert "edited by hand" in message
    assert (file_writer.path.read_bytes(), file_writer.audit_log.read_bytes()) == before


@pytest.mark.parametrize(
    ("logged_first", "words", "author"),
    [
        pytest.param(False, ["the file changed"], None, id="hand-edit"),
        pytest.param(
            True,
            ["revision 1 by bob, an edit by hand came first"],
            "bob",
            id="logged-then-hand-edit",
        ),
    ],
)
def test_a_conflict_tells_a_hand_edit(
    file_writer: FileWriter,
    logged_first: bool,
    words: list[str],
    author: str | None,
) -> None:
    page = file_writer.read()
    if logged_first:
        file_writer.change(ENV, {"hsts_max_age": 600}, expected=None, author="bob")
    hand_edit(file_writer, "hsts = false", "hsts = true")
    before = file_writer.path.read_bytes()
    with pytest.raises(ConflictError) as caught:
        file_writer.change(ENV, {"secure_cookies": True}, expected=page.version)
    for word in words:
        assert word in str(caught.value)
    assert caught.value.author == author
    assert caught.value.current_version == file_writer.read().version
    assert file_writer.path.read_bytes() == before


def test_a_conflict_after_several_changes_names_them_all(
    file_writer: FileWriter,
) -> None:
    page = file_writer.read()
    file_writer.change(ENV, {"hsts": True}, expected=None, author="bob")
    file_writer.change(ENV, {"hsts_max_age": 60}, expected=None, author="carol")
    with pytest.raises(ConflictError) as caught:
        file_writer.change(ENV, {"hsts": False}, expected=page.version)
    assert "revision 1 by bob, revision 2 by carol came first" in str(caught.value)
    assert "by hand" not in str(caught.value)
    changes: list[t.Any] = caught.value.changes
    assert [(c.revision, c.key) for c in changes] == [(1, "hsts"), (2, "hsts_max_age")]


def test_the_file_writer_needs_nothing_of_the_store_extra(tmp_path: Path) -> None:
    # A fresh interpreter in which SQLAlchemy and psycopg cannot be imported.
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\n", "utf-8")
    code = f"""
import sys
sys.modules["sqlalchemy"] = sys.modules["psycopg"] = None
from pathlib import Path
from flask_enforce_https.writers import FileWriter
writer = FileWriter(Path({str(path)!r}), Path({str(path)!r} + ".audit.jsonl"))
print(writer.change("environment", {{"hsts": True}}, expected=None).revision)
print(sorted(m for m in sys.modules if m.startswith("flask_enforce_https.store")))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["1", "[]"]
