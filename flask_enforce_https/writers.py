"""One way to change the settings, whether a file or a store holds them.

``flask https set``, ``unset``, ``history`` and ``revert``, and the console,
go through a :class:`SettingsWriter`: :class:`FileWriter` for a settings
file, :class:`~flask_enforce_https.store.writer.StoreWriter` for a settings
store. A tool reads the settings and their version, lets someone review
them, then applies a change with the version it read: if the settings moved
on in between, the writer refuses with a
:class:`~flask_enforce_https.errors.ConflictError` that names the other
change, and writes nothing.

This module needs nothing of the ``store`` extra.
"""

from __future__ import annotations

import json
import tomllib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from . import audit, edits
from .config import Config
from .errors import ReadOnlySettingsError
from .filelog import conflict, undo
from .history import HistoryEntry, from_log
from .layout import Values
from .parsing import parse_file
from .sources import FileSource, read_file


class AppState(t.Protocol):
    """What the writers need of an app's
    :class:`~flask_enforce_https.state.AppState` (a protocol, so that this
    module does not import the state, which imports the sources)."""

    @property
    def config(self) -> Config:
        """The validated config."""
        ...

    @property
    def source(self) -> object:
        """Where the settings come from."""
        ...


Change = edits.Change


@dataclass(frozen=True)
class Current:
    """The settings as a writer reads them.

    :param document: The settings document (``environment`` and
        ``applications`` tables), as written.
    :param version: Opaque: give it back to :meth:`SettingsWriter.change`
        or :meth:`SettingsWriter.revert` as ``expected``. A file's is
        ``"sha256:"`` and the hex digest of its bytes; a store's is the
        number of the revision in force, as text (``"0"`` before the first).
    """

    document: dict[str, t.Any]
    version: str


@dataclass(frozen=True)
class Outcome:
    """What a change or a revert did.

    :param changes: The keys it changed; empty when the settings already
        were as asked (then nothing was written).
    :param version: The settings' version after it.
    :param revision: The revision written; ``None`` when nothing was.
    """

    changes: list[Change]
    version: str
    revision: int | None


@dataclass(frozen=True)
class History:
    """The history of the settings.

    :param entries: One per key each revision changed, oldest first.
    :param skipped: What could not be read, one message each (lines of a
        file's audit log).
    """

    entries: list[HistoryEntry]
    skipped: list[str] = field(default_factory=list)


class SettingsWriter(t.Protocol):
    """Changes the settings with an audit trail; implemented by
    :class:`FileWriter` and
    :class:`~flask_enforce_https.store.writer.StoreWriter`.

    ``expected`` is the version the change was made against, from
    :meth:`read`; ``None`` applies the change to whatever is in force (what
    the command line does). A change the settings' schema refuses raises
    :class:`~flask_enforce_https.errors.SettingsError`; either way nothing is
    written.
    """

    #: The file, or the store's URL with its password hidden.
    where: str

    def read(self) -> Current:
        """Return the settings and their version."""
        ...

    def change(
        self,
        scope: str,
        values: dict[str, object],
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
        origin: str = "cli",
    ) -> Outcome:
        """Give keys of ``scope`` new values (``None`` unsets a key).

        :param scope: ``"environment"`` or an application's name.
        :param values: The new values by key, valid already.
        :param expected: The version read, or ``None``.
        :param author: Who; the user running the process by default.
        :param reason: Why, recorded with the change.
        :param origin: ``"cli"`` or ``"console"``.
        :raises ~flask_enforce_https.errors.ConflictError: The settings are
            no longer at ``expected``.
        """
        ...

    def history(self) -> History:
        """Return every change recorded, oldest first."""
        ...

    def revert(
        self,
        revision: int,
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
    ) -> Outcome:
        """Make the settings what they were right after ``revision``, as a
        new revision (origin ``revert``; its reason starts ``revert to
        revision N``).

        :raises ~flask_enforce_https.errors.RevisionError: There is no such
            revision, or the settings cannot be brought back to it.
        :raises ~flask_enforce_https.errors.ConflictError: The settings are
            no longer at ``expected``.
        """
        ...

    def known_applications(self) -> set[str]:
        """Return the applications the settings or their readers name."""
        ...

    def close(self) -> None:
        """Let go of what the writer holds (a store's connections); it may
        be used again after."""
        ...


def revert_reason(revision: int, reason: str | None) -> str:
    """The reason a revert records: ``revert to revision N[: reason]``."""
    return f"revert to revision {revision}" + (f": {reason}" if reason else "")


class FileWriter:
    """Changes a settings file in place, keeping its layout, with an audit
    line per changed key in a JSON-lines log.

    Revisions are numbered in the log (see :ref:`cli-history`). Reverting to
    revision N undoes, key by key, what the revisions after N changed; when
    a key's value in the file is not the one the log last gave it (the file
    was edited by hand), it refuses rather than guess.

    :param path: The settings file.
    :param audit_log: Its audit log.
    """

    def __init__(self, path: Path, audit_log: Path) -> None:
        self.path = path
        self.audit_log = audit_log
        self.where = str(path)

    def read(self) -> Current:
        _, data = read_file(self.path)
        parse_file(self.path, data)
        return Current(self._document(data), edits.version_of(data))

    def _document(self, data: bytes) -> dict[str, t.Any]:
        text = data.decode("utf-8")
        if self.path.suffix == ".json":
            return t.cast("dict[str, t.Any]", json.loads(text))
        return tomllib.loads(text)

    def change(
        self,
        scope: str,
        values: dict[str, object],
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
        origin: str = "cli",
    ) -> Outcome:
        def plan(document: dict[str, t.Any], lines: audit.History) -> Values:
            return {scope: values}

        return self._apply(plan, expected, author, reason, origin)

    def _apply(
        self,
        plan: edits.Plan,
        expected: str | None,
        author: str | None,
        reason: str | None,
        origin: str,
    ) -> Outcome:
        def check(version: str, lines: audit.History) -> None:
            if expected is not None and version != expected:
                raise conflict(expected, version, lines)

        done = edits.apply(
            self.path,
            self.audit_log,
            plan,
            check=check,
            author=author,
            reason=reason,
            origin=origin,
        )
        return Outcome(done.changes, done.version, done.revision)

    def history(self) -> History:
        found = audit.history(self.audit_log)
        entries, skipped = from_log(found.lines)
        why = sorted([*found.skipped, *skipped])
        return History(
            [entry for _, entry in entries],
            [f"{self.audit_log}, line {n}: skipped, {problem}" for n, problem in why],
        )

    def revert(
        self,
        revision: int,
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
    ) -> Outcome:
        def plan(document: dict[str, t.Any], lines: audit.History) -> Values:
            entries = [entry for _, entry in from_log(lines.lines)[0]]
            return undo(self.path, self.audit_log, document, entries, revision)

        said = revert_reason(revision, reason)
        return self._apply(plan, expected, author, said, "revert")

    def known_applications(self) -> set[str]:
        return set(self.read().document.get("applications", {}))

    def close(self) -> None:
        """Nothing to let go of: each call opens and closes the file."""


def audit_log_path(state: AppState) -> Path:
    """Return where changes to an app's settings file are logged:
    ``ENFORCE_HTTPS_AUDIT_LOG``, else the file's name plus
    ``.audit.jsonl``.

    :param state: The extension state of an app whose settings are a file.
    """
    if state.config.audit_log is not None:
        return state.config.audit_log
    path = t.cast(FileSource, state.source).path
    return path.with_name(path.name + ".audit.jsonl")


def writer_for(state: AppState) -> SettingsWriter:
    """Return the writer of an app's settings: a :class:`FileWriter` for a
    settings file, a
    :class:`~flask_enforce_https.store.writer.StoreWriter` for a store.

    :param state: The extension state of the app.
    :raises ~flask_enforce_https.errors.ReadOnlySettingsError: The
        settings are a mapping in the config.
    """
    source = state.source
    if isinstance(source, FileSource):
        return FileWriter(source.path, audit_log_path(state))
    # A store's source makes its own writer: this module needs nothing of
    # the store extra, and imports nothing of it.
    make = getattr(source, "writer", None)
    if callable(make):
        return t.cast(SettingsWriter, make())
    raise ReadOnlySettingsError(
        "the settings come from a mapping in the config; set"
        " ENFORCE_HTTPS_SETTINGS to a .toml or .json file, or a store URL,"
        " to change them here."
    )
