"""Parsing the bytes of a settings file into validated settings.

Any failure is a :class:`~flask_enforce_https.errors.SettingsError` naming
the file: invalid TOML or JSON, a key repeated in a JSON object, and also
whatever else a parser can raise on hostile input (a ``RecursionError`` on
deep nesting, a ``ValueError`` on an integer of thousands of digits), so that
a bad version is always rejected, never a traceback.
"""

from __future__ import annotations

import json
import re
import tomllib
import typing as t
from pathlib import Path

from .errors import SettingsError
from .settings import Locator, Settings, parse_settings
from .tomltext import lines_of_keys

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _toml_locator(text: str) -> Locator:
    lines: dict[tuple[str, ...], int] = {}
    for index, key, _ in lines_of_keys(text):
        lines.setdefault(key, index + 1)

    def locate(key: tuple[str, ...]) -> int | None:
        # A key not written out itself (part of an inline table, say) is
        # blamed on the nearest enclosing one that is.
        while key:
            if key in lines:
                return lines[key]
            key = key[:-1]
        return None

    return locate


def _json_locator(text: str) -> Locator:
    def locate(key: tuple[str, ...]) -> int | None:
        position = 0
        for part in key:
            found = text.find(json.dumps(part), position)
            if found < 0:
                return None
            position = found
        return text.count("\n", 0, position) + 1

    return locate


def parse_file(path: Path, data: bytes) -> Settings:
    """Parse and validate the bytes of a settings file.

    :param path: The file, whose extension says the format.
    :param data: Its content.
    :raises SettingsError: The content is not valid settings; the error
        names the file, the key and, where known, the line.
    """
    source = str(path)
    if not data.strip():
        raise SettingsError(
            source,
            "",
            "the file is empty; write an [environment] table, even"
            " an empty one, to use the defaults",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SettingsError(
            source, "", f"not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None
    try:
        if path.suffix == ".json":
            return _parse_json(source, text)
        return _parse_toml(source, text)
    except SettingsError:
        raise
    except RecursionError:
        raise SettingsError(source, "", "the file is nested too deeply") from None
    except Exception as e:
        # A 5,000-digit integer is a ValueError, for one; whatever it is, the
        # file is refused with a message rather than a traceback.
        raise SettingsError(
            source, "", f"cannot be read as settings: {_describe(e)}"
        ) from None


def _describe(error: Exception) -> str:
    message = str(error).splitlines()[0] if str(error) else ""
    message = message[:200]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _parse_json(source: str, text: str) -> Settings:
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise SettingsError(source, "", f"invalid JSON: {e.msg}", e.lineno) from None
    except _DuplicateKeyError as e:
        raise SettingsError(
            source, "", f"invalid JSON: the key {e.key!r} appears twice in one object"
        ) from None
    return parse_settings(document, source, _json_locator(text))


def _parse_toml(source: str, text: str) -> Settings:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        line = _TOML_LINE.search(message)
        raise SettingsError(
            source,
            "",
            f"invalid TOML: {_TOML_LINE.sub('', message).strip()}",
            int(line.group(1)) if line else None,
        ) from None
    return parse_settings(document, source, _toml_locator(text))
