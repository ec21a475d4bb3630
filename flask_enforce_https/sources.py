"""Settings files: loading with clear errors, and hot reload.

A file is read whole, parsed, validated and swapped in as one immutable
:class:`~flask_enforce_https.settings.Settings`; a version that fails keeps
the last good one in force. Each process checks the file at most once per
interval, with one ``os.stat``, off the part of the request path that runs
when nothing changed.

A file may be rewritten in place, and a prefix of it cut at a line boundary
is often valid, looser, settings. So a version is applied (or rejected) only
once two reads :data:`STABLE_FOR` seconds apart agree; the request path never
sleeps for that, it checks again when the window is over.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError
from .files import FileError, read_regular_file
from .parsing import parse_file as parse_file  # also imported from here
from .settings import Settings, diff_settings

logger = logging.getLogger("flask_enforce_https")

#: A settings file larger than this is refused unread.
MAX_SIZE = 1024 * 1024
#: Seconds a changed file must stay unchanged before it is applied: a writer
#: that pauses longer than this mid-file can still be read half-written.
STABLE_FOR = 0.3
#: How many times start-up waits for a file that keeps changing.
_START_TRIES = 20
FORMATS = (".toml", ".json")
# Longer than any file system's timestamp granularity (FAT's is 2 s).
_RACY_NS = 3_000_000_000


def read_file(path: Path) -> tuple[os.stat_result, bytes]:
    """Read a settings file, refusing one that is too large or not a regular
    file (a FIFO, a device).

    :param path: The file.
    :raises SettingsError: It cannot be read, is not a regular file, or is
        too large.
    """
    try:
        return read_regular_file(path, MAX_SIZE)
    except FileError as e:
        raise SettingsError(str(path), "", e.problem) from None


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
    :param stable_for: Seconds a changed file must stay unchanged before it
        is applied or rejected: two reads this far apart must agree. Defaults
        to :data:`STABLE_FOR`, or 0 (apply when first seen) when
        ``interval`` is 0, which is meant for tests.
    :raises SettingsError: The file cannot be loaded now (fail fast).
    """

    def __init__(
        self,
        path: Path,
        interval: float,
        clock: t.Callable[[], float] = time.monotonic,
        stable_for: float | None = None,
    ) -> None:
        self.path = path
        self.interval = interval
        self.stable_for = (
            (STABLE_FOR if interval > 0 else 0.0) if stable_for is None else stable_for
        )
        self._clock = clock
        stat, data = self._read_stable()
        self._settings = parse_file(path, data)
        self._stamp: tuple[int, int, int] | None = _stamp(stat)
        self._settled = time.time_ns() - stat.st_mtime_ns > _RACY_NS
        # The digest of the content in force.
        self._good = hashlib.sha256(data).digest()
        self._loaded_at = time.time()
        self._error: SettingsError | None = None
        self._rejected: object = None
        # A version seen once, waiting for a second read to agree.
        self._pending: object = None
        self._next_check = clock() + interval
        self._lock = threading.Lock()
        self.applied: list[Listener] = []
        self.rejected: list[ErrorListener] = []

    def _read_stable(self) -> tuple[os.stat_result, bytes]:
        # Start-up has no request to hold up: a file younger than the window
        # may still be being written, so wait until two reads agree.
        stat, data = read_file(self.path)
        window_ns = int(self.stable_for * 1e9)
        for _ in range(_START_TRIES):
            age = time.time_ns() - stat.st_mtime_ns
            if age >= window_ns:
                return stat, data
            time.sleep((window_ns - max(age, 0)) / 1e9)
            stat, again = read_file(self.path)
            if again == data:
                return stat, data
            data = again
        raise SettingsError(
            str(self.path),
            "",
            f"the file kept changing for {_START_TRIES * self.stable_for:g} s;"
            " write it whole, then start the application",
        )

    def current(self) -> Settings:
        """Return the settings in force, checking the file when it is due."""
        if self._clock() < self._next_check:
            return self._settings
        # One thread checks; the others go on with the settings in force.
        if self._lock.acquire(blocking=False):
            try:
                self._next_check = self._clock() + self.interval
                if self._check() is _WAIT:
                    self._next_check = self._clock() + self.stable_for
            finally:
                self._lock.release()
        return self._settings

    def peek(self) -> Settings:
        """Return the settings in force, without checking the file."""
        return self._settings

    def status(self) -> Status:
        """Return the file, its state and when the settings were loaded."""
        state = "ok" if self._error is None else f"stale: {self._error}"
        return Status(str(self.path), state, self._loaded_at)

    def _check(self) -> object:
        # Returns _WAIT when a changed version must be read again once the
        # stability window is over.
        try:
            stat = os.stat(self.path)
        except OSError as e:
            problem = (
                "the file is gone"
                if isinstance(e, FileNotFoundError)
                else (f"cannot stat the file: {e.strerror}")
            )
            self._stamp = None
            return self._bad(SettingsError(str(self.path), "", problem), problem)
        if (
            _stamp(stat) == self._stamp
            and self._settled
            and self._error is None
            and self._pending is None
        ):
            return None
        try:
            stat, data = read_file(self.path)
        except SettingsError as e:
            self._stamp = None
            return self._bad(e, e.problem)
        # Same inode, size and mtime can hide a rewrite within one timestamp
        # tick; until the file is older than any tick, the content decides.
        self._stamp = _stamp(stat)
        self._settled = time.time_ns() - stat.st_mtime_ns > _RACY_NS
        digest = hashlib.sha256(data).digest()
        if digest == self._good and self._error is None:
            self._pending = None
            return None
        if digest == self._rejected:
            self._pending = None
            return None  # still the version already rejected: retried later
        if self._unstable(digest):
            return _WAIT
        if digest == self._good:
            settings = self._settings  # back to the version in force
        else:
            try:
                settings = parse_file(self.path, data)
            except SettingsError as e:
                self._reject(e, digest)
                return None
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
        return None

    def _unstable(self, version: object) -> bool:
        # A version is acted on only when a read one window after it was
        # first seen gives it again.
        if self.stable_for <= 0 or version == self._pending:
            self._pending = None
            return False
        self._pending = version
        return True

    def _bad(self, error: SettingsError, version: object) -> object:
        if version == self._rejected:
            self._error = error
            self._pending = None
            return None
        if self._unstable(version):
            return _WAIT
        self._reject(error, version)
        return None

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


_WAIT = object()


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
