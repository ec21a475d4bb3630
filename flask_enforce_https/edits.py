"""Audited, atomic edits of a settings file, for ``flask https set``.

A change is validated with the same schema as a load, written to a
temporary file beside the original and renamed over it (see
:func:`~flask_enforce_https.files.replace_file`), so running applications
only ever read a whole file; :mod:`~flask_enforce_https.layout` keeps a TOML
file's layout. Each command that changes something is one revision: its
audit lines carry the revision's number, reason and origin, and the file's
versions before and after.
"""

from __future__ import annotations

import datetime
import getpass
import hashlib
import json
import os
import tomllib
import typing as t
from dataclasses import dataclass
from pathlib import Path

from . import audit
from .errors import EnforceHTTPSError, SettingsError
from .files import FileError, replace_file
from .history import from_log, iso_time, next_revision
from .layout import Values, new_text, section
from .parsing import parse_file
from .sources import read_file

Key = tuple[str, ...]


class EditError(EnforceHTTPSError):
    """A settings file cannot be changed as asked."""


@dataclass(frozen=True)
class Change:
    """One key changed in one scope.

    :param scope: ``"environment"`` or an application name.
    :param key: The setting.
    :param old: Its value before, or ``None`` when it was unset.
    :param new: Its value after, or ``None`` when it is now unset.
    """

    scope: str
    key: str
    old: object
    new: object


def version_of(data: bytes) -> str:
    """The version of a settings file's content, as writers compare it:
    ``"sha256:"`` and the hex digest of its bytes.

    :param data: The file's bytes.
    """
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class Plan(t.Protocol):
    """Decides an edit under the lock, from what the file and its log hold
    then; returns the values to give keys, by scope.

    :param document: The file's settings document.
    :param lines: The audit log's lines (see :func:`audit.history`).
    """

    def __call__(self, document: dict[str, t.Any], lines: audit.History) -> Values: ...


class CheckVersion(t.Protocol):
    """Raises when the file's version is not the one expected; called under
    the lock, before the plan.

    :param version: The file's version now (:func:`version_of`).
    :param lines: The audit log's lines.
    """

    def __call__(self, version: str, lines: audit.History) -> None: ...


@dataclass(frozen=True)
class Edit:
    """What :func:`apply` did.

    :param changes: The keys it changed; empty when nothing changed.
    :param version: The file's version after it (:func:`version_of`).
    :param revision: The revision its audit lines carry; ``None`` when
        nothing changed.
    """

    changes: list[Change]
    version: str
    revision: int | None


def apply(
    path: Path,
    audit_log: Path,
    plan: Plan,
    *,
    check: CheckVersion | None = None,
    author: str | None = None,
    reason: str | None = None,
    origin: str = "cli",
) -> Edit:
    """Change the settings file as ``plan`` says, with an audit line per
    changed key, all of one new revision.

    :param path: The settings file (or a symbolic link to it: its target is
        changed).
    :param audit_log: The JSON-lines audit log.
    :param plan: Says what to change, from the file and log as they are
        under the lock.
    :param check: Refuses a file that changed since it was read.
    :param author: Who changes it; the user running the process by default.
    :param reason: Why, recorded with each line.
    :param origin: ``"cli"``, ``"console"`` or ``"revert"``, recorded too.
    :raises EditError: The file is invalid now, the edit would not give
        exactly the asked-for settings, or the new file could not keep the
        old one's owner, group, mode or ACL; nothing is changed then.
    :raises SettingsError: The new settings are invalid; nothing is changed.
    """
    try:
        like = os.stat(path)
    except OSError as e:
        raise EditError(f"{path}: cannot read the file: {e.strerror}") from None
    try:
        with audit.locked(audit_log, like) as log:
            # The lock serialises concurrent edits: each reads what the last
            # one wrote.
            _, data = read_file(path)
            lines = audit.history(audit_log)
            version = version_of(data)
            if check is not None:
                check(version, lines)
            try:
                parse_file(path, data)
            except SettingsError as e:
                raise EditError(f"{e}; fix the file by hand first") from None
            text = data.decode("utf-8")
            document = (
                json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
            )
            changes = [
                Change(scope, key, section(document, scope).get(key), value)
                for scope, values in plan(document, lines).items()
                for key, value in values.items()
                if section(document, scope).get(key) != value
            ]
            if not changes:
                return Edit([], version, None)
            wanted: Values = {}
            for change in changes:
                wanted.setdefault(change.scope, {})[change.key] = change.new
            written = new_text(path, text, wanted)
            if written is None:
                keys = ", ".join(f"{c.scope}.{c.key}" for c in changes)
                raise EditError(
                    f"{path}: cannot change {keys} while keeping the file's"
                    " layout; edit it by hand"
                )
            new_data = written.encode("utf-8")
            parse_file(path, new_data)
            revision = next_revision(from_log(lines.lines)[0])
            replace_file(path, new_data)
            new_version = version_of(new_data)
            log.append(
                _entries(
                    changes,
                    revision=revision,
                    versions=(version, new_version),
                    author=author or user_name(),
                    reason=reason,
                    origin=origin,
                )
            )
            return Edit(changes, new_version, revision)
    except FileError as e:
        raise EditError(str(e)) from None


def _entries(
    changes: list[Change],
    *,
    revision: int,
    versions: tuple[str, str],
    author: str,
    reason: str | None,
    origin: str,
) -> list[dict[str, t.Any]]:
    now = datetime.datetime.now(datetime.timezone.utc)
    return [
        {
            "time": iso_time(now),
            "user": author,
            "scope": change.scope,
            "key": change.key,
            "old": change.old,
            "new": change.new,
            "revision": revision,
            "reason": reason,
            "origin": origin,
            # The file's versions before and after this revision: a writer
            # that read another version can tell which revisions came
            # after it, and whether the file was edited by hand between.
            "version_before": versions[0],
            "version": versions[1],
        }
        for change in changes
    ]


def user_name() -> str:
    """Return the name of the user running the command, for audit records."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"
