"""Settings files: loading with clear errors, and hot reload.

A file is read whole, parsed, validated and swapped in as one immutable
:class:`~flask_enforce_https.settings.Settings`; a version that fails keeps
the last good one in force. Each process checks the file at most once per
interval, with one ``os.stat``, off the part of the request path that runs
when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError
from .settings import Locator, Settings, diff_settings, parse_settings
from .tomltext import lines_of_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

logger = logging.getLogger("flask_enforce_https")

#: A settings file larger than this is refused unread.
MAX_SIZE = 1024 * 1024
FORMATS = (".toml", ".json")
# Longer than any file system's timestamp granularity (FAT's is 2 s).
_RACY_NS = 3_000_000_000
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
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as e:
            raise SettingsError(
                source, "", f"invalid JSON: {e.msg}", e.lineno
            ) from None
        return parse_settings(document, source, _json_locator(text))
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


def read_file(path: Path) -> tuple[os.stat_result, bytes]:
    """Read a settings file, refusing one that is too large.

    :param path: The file.
    :raises SettingsError: It cannot be read, or is too large.
    """
    try:
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            if stat.st_size > MAX_SIZE:
                raise SettingsError(
                    str(path),
                    "",
                    f"the file is {stat.st_size} bytes; settings"
                    f" files are limited to {MAX_SIZE} bytes",
                )
            return stat, f.read(MAX_SIZE + 1)
    except OSError as e:
        raise SettingsError(
            str(path), "", f"cannot read the file: {e.strerror}"
        ) from None


@dataclass(frozen=True)
class Status:
    """What a source says about itself, for ``flask https show``.

    :param source: The file, or ``"ENFORCE_HTTPS_SETTINGS (mapping)"``.
    :param state: ``"ok"``, or why the settings in force are an older
        version.
    :param loaded_at: When the settings in force were loaded (epoch seconds).
    """

    source: str
    state: str
    loaded_at: float


Listener = t.Callable[[Settings, list[str]], None]
ErrorListener = t.Callable[[SettingsError], None]


class FileSource:
    """Settings from a TOML or JSON file, reloaded while the app runs.

    :param path: The settings file.
    :param interval: Seconds between checks; 0 checks on every call.
    :param clock: A monotonic clock.
    :raises SettingsError: The file cannot be loaded now (fail fast).
    """

    def __init__(
        self,
        path: Path,
        interval: float,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.interval = interval
        self._clock = clock
        stat, data = read_file(path)
        self._settings = parse_file(path, data)
        self._stamp: tuple[int, int, int] | None = _stamp(stat)
        self._settled = time.time_ns() - stat.st_mtime_ns > _RACY_NS
        # The digest of the content in force.
        self._good = hashlib.sha256(data).digest()
        self._loaded_at = time.time()
        self._error: SettingsError | None = None
        self._rejected: object = None
        self._next_check = clock() + interval
        self._lock = threading.Lock()
        self.applied: list[Listener] = []
        self.rejected: list[ErrorListener] = []

    def current(self) -> Settings:
        """Return the settings in force, checking the file when it is due."""
        if self._clock() < self._next_check:
            return self._settings
        # One thread checks; the others go on with the settings in force.
        if self._lock.acquire(blocking=False):
            try:
                self._next_check = self._clock() + self.interval
                self._check()
            finally:
                self._lock.release()
        return self._settings

    def status(self) -> Status:
        """Return the file, its state and when the settings were loaded."""
        state = "ok" if self._error is None else f"stale: {self._error}"
        return Status(str(self.path), state, self._loaded_at)

    def _check(self) -> None:
        try:
            stat = os.stat(self.path)
        except OSError as e:
            problem = (
                "the file is gone"
                if isinstance(e, FileNotFoundError)
                else (f"cannot stat the file: {e.strerror}")
            )
            self._stamp = None
            self._reject(SettingsError(str(self.path), "", problem), problem)
            return
        if _stamp(stat) == self._stamp and self._settled:
            return
        try:
            stat, data = read_file(self.path)
        except SettingsError as e:
            self._stamp = None
            self._reject(e, e.problem)
            return
        # Same inode, size and mtime can hide a rewrite within one timestamp
        # tick; until the file is older than any tick, the content decides.
        self._stamp = _stamp(stat)
        self._settled = time.time_ns() - stat.st_mtime_ns > _RACY_NS
        digest = hashlib.sha256(data).digest()
        if digest == self._good and self._error is None:
            return
        if digest == self._good:
            settings = self._settings  # back to the version in force
        else:
            try:
                settings = parse_file(self.path, data)
            except SettingsError as e:
                self._reject(e, digest)
                return
        self._good = digest
        changes = diff_settings(self._settings, settings)
        self._settings, self._loaded_at = settings, time.time()
        self._error = self._rejected = None
        logger.info(
            "settings reloaded from %s: %s",
            self.path,
            "; ".join(changes) or "no change",
        )
        for listener in self.applied:
            listener(settings, changes)

    def _reject(self, error: SettingsError, version: object) -> None:
        self._error = error
        if version == self._rejected:
            return
        self._rejected = version
        logger.error(
            "settings not reloaded, the last good ones stay in force: %s", error
        )
        for listener in self.rejected:
            listener(error)


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
