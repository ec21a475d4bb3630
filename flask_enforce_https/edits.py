"""Audited, atomic edits of a settings file, for ``flask https set``.

A change is validated with the same schema as a load, written to a
temporary file in the same folder, fsynced and renamed over the original,
so running applications only ever read a whole file. TOML files are edited
line by line to keep comments and layout; JSON files are rewritten.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import fcntl
import getpass
import json
import os
import re
import sys
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

from .errors import EnforceHTTPSError, SettingsError
from .sources import parse_file, read_file
from .tomltext import KEY, Key, key_parts, lines_of_keys, write_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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


def toml_value(value: object) -> str:
    """Write ``value`` (bool, int, str or a list of them) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _comment(line: str) -> str:
    """The trailing comment of a one-line ``key = value``, if any."""
    for match in re.finditer("#", line):
        with contextlib.suppress(tomllib.TOMLDecodeError):
            tomllib.loads(line[: match.start()])
            return "  " + line[match.start() :].strip()
    return ""


def _edit_toml(text: str, table: Key, key: str, value: object) -> str:
    lines = text.splitlines()
    headers = [(i, k) for i, k, is_header in lines_of_keys(text) if is_header]
    start = next((i + 1 for i, k in headers if k == table), None)
    if start is None:
        if value is None:
            return text
        block = ["", f"[{write_key(table)}]", f"{key} = {toml_value(value)}"]
        return "\n".join([*lines, *block]).lstrip("\n") + "\n"
    end = next((i for i, _ in headers if i >= start), len(lines))
    for number in range(start, end):
        found = KEY.match(lines[number])
        if found and key_parts(found.group(1)) == (key,):
            # A value may span lines (an array): take the shortest run that
            # parses.
            last = number
            while last < end:
                with contextlib.suppress(tomllib.TOMLDecodeError):
                    tomllib.loads("\n".join(lines[number : last + 1]))
                    break
                last += 1
            comment = _comment(lines[number]) if last == number else ""
            new = [] if value is None else [f"{key} = {toml_value(value)}{comment}"]
            lines[number : last + 1] = new
            return "\n".join(lines) + "\n"
    if value is None:
        return text
    insert = end
    # Blank lines and comments just above the next header belong to it.
    while insert > start and (
        not lines[insert - 1].strip() or lines[insert - 1].lstrip().startswith("#")
    ):
        insert -= 1
    lines.insert(insert, f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def _section(document: dict[str, t.Any], scope: str) -> dict[str, t.Any]:
    if scope == "environment":
        return t.cast("dict[str, t.Any]", document.get("environment", {}))
    return t.cast("dict[str, t.Any]", document.get("applications", {}).get(scope, {}))


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
    return expected


def _write_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def apply(
    path: Path, audit_log: Path, scope: str, values: dict[str, object]
) -> list[Change]:
    """Change ``values`` in ``scope`` of the settings file, with an audit line
    per changed key.

    :param path: The settings file.
    :param audit_log: The JSON-lines audit log.
    :param scope: ``"environment"`` or an application name.
    :param values: New values by key; ``None`` unsets a key. They must be
        valid already.
    :raises EditError: The file is invalid now, or the edit would not
        give exactly the asked-for settings.
    """
    with audit_log.open("a", encoding="utf-8") as log:
        # Serialises concurrent edits: each reads what the last one wrote.
        fcntl.flock(log.fileno(), fcntl.LOCK_EX)
        _, data = read_file(path)
        try:
            parse_file(path, data)
        except SettingsError as e:
            raise EditError(f"{e}; fix the file by hand first") from None
        text = data.decode("utf-8")
        json_file = path.suffix == ".json"
        document = json.loads(text) if json_file else tomllib.loads(text)
        before = _section(document, scope)
        changes = [
            Change(scope, key, before.get(key), value)
            for key, value in values.items()
            if before.get(key) != value
        ]
        if not changes:
            return []
        expected = _expected(document, scope, {c.key: c.new for c in changes})
        if json_file:
            new_text = json.dumps(expected, indent=2) + "\n"
        else:
            table = (
                ("environment",) if scope == "environment" else ("applications", scope)
            )
            new_text = text
            for change in changes:
                new_text = _edit_toml(new_text, table, change.key, change.new)
            try:
                same = tomllib.loads(new_text) == expected
            except tomllib.TOMLDecodeError:
                same = False
            if not same:
                raise EditError(
                    f"{path}: cannot change {scope} {', '.join(values)} without"
                    " losing the file's layout (a key set in another form?);"
                    " edit it by hand"
                )
        parse_file(path, new_text.encode("utf-8"))
        _write_atomically(path, new_text.encode("utf-8"))
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        user = _user()
        for change in changes:
            entry = {
                "time": now.replace("+00:00", "Z"),
                "user": user,
                "scope": change.scope,
                "key": change.key,
                "old": change.old,
                "new": change.new,
            }
            log.write(json.dumps(entry) + "\n")
        log.flush()
        os.fsync(log.fileno())
        return changes


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"


def history(audit_log: Path) -> list[dict[str, t.Any]]:
    """Return the entries of the audit log, oldest first.

    :param audit_log: The JSON-lines audit log; missing means empty.
    """
    try:
        lines = audit_log.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise EditError(f"{audit_log}, line {number}: not a JSON line") from None
    return entries
