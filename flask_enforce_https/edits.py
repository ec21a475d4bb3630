"""Audited, atomic edits of a settings file, for ``flask https set``.

A change is validated with the same schema as a load, written to a
temporary file beside the original and renamed over it (see
:func:`~flask_enforce_https.files.replace_file`), so running applications
only ever read a whole file. TOML files are edited with :mod:`tomlkit`, which
keeps comments, inline tables, dotted keys, multi-line arrays and CRLF line
ends; JSON files are rewritten.
"""

from __future__ import annotations

import copy
import datetime
import getpass
import json
import os
import re
import tomllib
import typing as t
from dataclasses import dataclass
from pathlib import Path

import tomlkit
import tomlkit.exceptions
import tomlkit.items

from . import audit
from .errors import EnforceHTTPSError, SettingsError
from .files import FileError, replace_file
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


Section: t.TypeAlias = "tomlkit.items.Table | tomlkit.items.InlineTable"
Parent: t.TypeAlias = (
    "tomlkit.TOMLDocument | tomlkit.items.Table | tomlkit.items.InlineTable"
)


def _child(parent: Parent, name: str) -> Section:
    found = parent.get(name)
    if isinstance(found, (tomlkit.items.Table, tomlkit.items.InlineTable)):
        return found
    inline = isinstance(parent, tomlkit.items.InlineTable)
    table: Section = (
        tomlkit.inline_table()
        if inline
        else tomlkit.table(is_super_table=name == "applications")
    )
    parent[name] = table
    return t.cast(Section, parent[name])


def _new_item(old: object, value: object, newline: str) -> tomlkit.items.Item:
    item = tomlkit.item(value)
    if isinstance(item, tomlkit.items.Array) and isinstance(old, tomlkit.items.Array):
        # A list written one item a line stays so.
        item.multiline("\n" in old.as_string())
    item.trivia.trail = newline
    return item


def _set(table: Section, key: str, value: object, newline: str) -> None:
    if key in table:
        table[key] = _new_item(table[key], value, newline)
        return
    item = _new_item(None, value, newline)
    body = table.value.body if isinstance(table, tomlkit.items.Table) else []
    last = max((i for i, (k, _) in enumerate(body) if k is not None), default=None)
    if last is not None and body[-1][0] is None:
        # Blank lines and comments after the last key belong to what
        # follows (the next table's header): insert above them. tomlkit has
        # no public call for that (_insert_after went in 0.15).
        table.value._insert_at(last + 1, key, item)
    else:
        table[key] = item


def _edit_toml(text: str, table: Key, key: str, value: object) -> str:
    """Set (or, with ``None``, remove) ``key`` in ``table`` of a TOML text."""
    document = tomlkit.parse(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    parent: Parent = document
    if value is None:
        for name in table:
            found = parent.get(name)
            if not isinstance(found, (tomlkit.items.Table, tomlkit.items.InlineTable)):
                return text
            parent = found
        if key in parent:
            del parent[key]
        _drop_empty_application(document, table)
    else:
        for name in table:
            parent = _child(parent, name)
        _set(t.cast(Section, parent), key, value, newline)
    written = document.as_string()
    if newline == "\r\n":
        written = re.sub(r"(?<!\r)\n", "\r\n", written)
    return written


def _drop_empty_application(document: t.Any, table: Key) -> None:
    # unset removes an [applications.NAME] table it leaves empty (and an
    # emptied [applications]); never [environment].
    if len(table) != 2 or table[0] != "applications":
        return
    applications = document.get("applications")
    if applications is None or applications.get(table[1]) is None:
        return
    if not applications[table[1]]:
        del applications[table[1]]
    if not applications:
        del document["applications"]


def _section(document: dict[str, t.Any], scope: str) -> dict[str, t.Any]:
    if scope == "environment":
        return t.cast("dict[str, t.Any]", document.get("environment", {}))
    return t.cast("dict[str, t.Any]", document.get("applications", {}).get(scope, {}))


def _table(scope: str) -> Key:
    return ("environment",) if scope == "environment" else ("applications", scope)


def _expected(
    document: dict[str, t.Any], scope: str, values: dict[str, object]
) -> dict[str, t.Any]:
    expected = copy.deepcopy(document)
    if scope == "environment":
        section = expected.setdefault("environment", {})
    else:
        section = expected.setdefault("applications", {}).setdefault(scope, {})
    for key, value in values.items():
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    _drop_empty_application(expected, _table(scope))
    return expected


def _new_text(path: Path, text: str, scope: str, changes: list[Change]) -> str:
    json_file = path.suffix == ".json"
    document = json.loads(text) if json_file else tomllib.loads(text)
    expected = _expected(document, scope, {c.key: c.new for c in changes})
    if json_file:
        return json.dumps(expected, indent=2) + "\n"
    new_text = text
    try:
        for change in changes:
            new_text = _edit_toml(new_text, _table(scope), change.key, change.new)
        same = tomllib.loads(new_text) == expected
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError):
        same = False
    if not same:
        raise EditError(
            f"{path}: cannot change {scope} {', '.join(c.key for c in changes)}"
            " while keeping the file's layout; edit it by hand"
        )
    return new_text


def apply(
    path: Path, audit_log: Path, scope: str, values: dict[str, object]
) -> list[Change]:
    """Change ``values`` in ``scope`` of the settings file, with an audit line
    per changed key.

    :param path: The settings file (or a symbolic link to it: its target is
        changed).
    :param audit_log: The JSON-lines audit log.
    :param scope: ``"environment"`` or an application name.
    :param values: New values by key; ``None`` unsets a key. They must be
        valid already.
    :raises EditError: The file is invalid now, the edit would not give
        exactly the asked-for settings, or the new file could not keep the
        old one's owner, group, mode or ACL; nothing is changed then.
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
            try:
                parse_file(path, data)
            except SettingsError as e:
                raise EditError(f"{e}; fix the file by hand first") from None
            text = data.decode("utf-8")
            before = _section(
                json.loads(text) if path.suffix == ".json" else tomllib.loads(text),
                scope,
            )
            changes = [
                Change(scope, key, before.get(key), value)
                for key, value in values.items()
                if before.get(key) != value
            ]
            if not changes:
                return []
            new_text = _new_text(path, text, scope, changes)
            parse_file(path, new_text.encode("utf-8"))
            replace_file(path, new_text.encode("utf-8"))
            log.append(_entries(changes))
            return changes
    except FileError as e:
        raise EditError(str(e)) from None


def _entries(changes: list[Change]) -> list[dict[str, t.Any]]:
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    user = user_name()
    return [
        {
            "time": now.replace("+00:00", "Z"),
            "user": user,
            "scope": change.scope,
            "key": change.key,
            "old": change.old,
            "new": change.new,
        }
        for change in changes
    ]


def user_name() -> str:
    """Return the name of the user running the command, for audit records."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"
