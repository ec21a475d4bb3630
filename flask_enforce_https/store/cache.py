"""The local cache of a store's settings: the last good revision, in a
file each process of the application writes when it applies a revision and
reads only when it starts while the store cannot be reached.

The file names the store it came from (password hidden), so that a cache
left by another store is never applied, and is replaced by a rename, so
that a process never reads half of one.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError
from ..files import FileError, read_regular_file, write_beside
from ..settings import Settings, parse_settings

#: A cache larger than this is refused unread.
MAX_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Cached:
    """What the cache holds.

    :param revision: The revision it is a copy of.
    :param settings: Its settings, validated.
    """

    revision: int
    settings: Settings


def write(
    path: Path, store: str, revision: int, document: t.Mapping[str, t.Any]
) -> None:
    """Replace the cache with ``revision``'s document.

    :param path: The cache file; its folder is created if missing.
    :param store: The store, as shown (password hidden).
    :param revision: The revision.
    :param document: Its document.
    :raises OSError: The file cannot be written.
    :raises FileError: No new file can be made in its folder.
    """
    data = json.dumps(
        {"store": store, "revision": revision, "document": document},
        indent=2,
        sort_keys=True,
    ).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_beside(path, data)


def read(path: Path, store: str) -> Cached | None:
    """Read the cache of ``store``; ``None`` when there is no file.

    :param path: The cache file.
    :param store: The store, as shown (password hidden).
    :raises SettingsError: The file cannot be read, is not a cache, is the
        cache of another store, or holds invalid settings; the message
        names the file.
    """
    where = str(path)
    try:
        _, data = read_regular_file(path, MAX_SIZE)
    except FileError as e:
        if not path.exists() and not path.is_symlink():
            return None
        raise SettingsError(where, "", e.problem) from None
    try:
        cached = json.loads(data)
    except ValueError as e:
        raise SettingsError(where, "", f"not a settings cache: {e}") from None
    if not isinstance(cached, dict) or not isinstance(cached.get("revision"), int):
        raise SettingsError(where, "", "not a settings cache: no revision number")
    if cached.get("store") != store:
        raise SettingsError(
            where,
            "store",
            f"the cache of another store ({cached.get('store')!r}), not of"
            f" {store!r}; delete it or set ENFORCE_HTTPS_SETTINGS_CACHE to a"
            " path of this application's own",
        )
    return Cached(
        cached["revision"],
        parse_settings(
            cached.get("document"), f"{where} (revision {cached['revision']})"
        ),
    )
