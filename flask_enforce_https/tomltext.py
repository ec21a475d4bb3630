"""Reading TOML text line by line: which table a header opens, which key a
line sets.

:mod:`tomllib` gives values but no positions; error messages need the line
of a key.
"""

from __future__ import annotations

import json
import re
import typing as t

_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PARTS = re.compile(_PART)

Key = tuple[str, ...]


def key_parts(dotted: str) -> Key:
    """Split a TOML dotted key into its unquoted parts.

    ``applications."shop.web".hsts`` gives
    ``("applications", "shop.web", "hsts")``.

    :param dotted: A key as written in TOML.
    """
    parts = []
    for part in _PARTS.findall(dotted):
        if part.startswith('"'):
            part = json.loads(part)
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def lines_of_keys(text: str) -> t.Iterator[tuple[int, Key, bool]]:
    """Yield ``(line index, full key, is a table header)`` for each line
    that opens a table or sets a key.

    :param text: The TOML document.
    """
    table: Key = ()
    for index, line in enumerate(text.splitlines()):
        if header := HEADER.match(line):
            table = key_parts(header.group(1))
            yield index, table, True
        elif key := KEY.match(line):
            yield index, table + key_parts(key.group(1)), False
