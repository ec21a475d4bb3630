"""Changing keys of a settings file's text while keeping its layout.

TOML files are edited with :mod:`tomlkit`, which keeps comments, inline
tables, dotted keys, multi-line arrays and CRLF line ends; the result is
checked to hold exactly the asked-for settings. JSON files are rewritten.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
import typing as t
from pathlib import Path

import tomlkit
import tomlkit.exceptions
import tomlkit.items

Key = tuple[str, ...]
#: The values to give keys, by scope; ``None`` unsets a key.
Values = dict[str, dict[str, object]]

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


def section(document: dict[str, t.Any], scope: str) -> dict[str, t.Any]:
    """The table of ``scope`` in a settings document (empty when absent)."""
    if scope == "environment":
        return t.cast("dict[str, t.Any]", document.get("environment", {}))
    return t.cast("dict[str, t.Any]", document.get("applications", {}).get(scope, {}))


def _table(scope: str) -> Key:
    return ("environment",) if scope == "environment" else ("applications", scope)


def with_values(
    document: t.Mapping[str, t.Any], scope: str, values: dict[str, object]
) -> dict[str, t.Any]:
    """Return a copy of a settings document with ``values`` in ``scope``
    (``None`` unsets a key; an application table left empty goes).

    :param document: A settings document.
    :param scope: ``"environment"`` or an application's name.
    :param values: The new values by key.
    """
    expected: dict[str, t.Any] = copy.deepcopy(dict(document))
    if scope == "environment":
        table = expected.setdefault("environment", {})
    else:
        table = expected.setdefault("applications", {}).setdefault(scope, {})
    for key, value in values.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    _drop_empty_application(expected, _table(scope))
    return expected


def new_text(path: Path, text: str, wanted: Values) -> str | None:
    """Return the file's text with the ``wanted`` values, its layout kept;
    ``None`` when that cannot be done exactly.

    :param path: The file: a ``.json`` one is rewritten whole.
    :param text: Its text now, valid.
    :param wanted: The values to give keys, by scope; ``None`` unsets.
    """
    json_file = path.suffix == ".json"
    expected = json.loads(text) if json_file else tomllib.loads(text)
    for scope, values in wanted.items():
        expected = with_values(expected, scope, values)
    if json_file:
        return json.dumps(expected, indent=2) + "\n"
    new_text = text
    try:
        for scope, values in wanted.items():
            for key, value in values.items():
                new_text = _edit_toml(new_text, _table(scope), key, value)
        same = tomllib.loads(new_text) == expected
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError):
        same = False
    return new_text if same else None
