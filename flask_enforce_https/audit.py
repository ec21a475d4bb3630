"""The audit log of ``flask https set`` and ``unset``: JSON lines, appended
under a lock, read back by ``flask https history``.

The log is never followed through a symbolic link (whoever can write the
folder could otherwise point it at another file), is created no wider than
the settings file, and a last line cut short (a full disk, a crash) does not
swallow the next entry.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .files import FileError, read_regular_file

_FLAGS = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _open(path: Path, mode: int) -> int:
    try:
        try:
            fd = os.open(path, _FLAGS | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            return _existing(path)
        # A default ACL on the folder can widen what umask would narrow.
        os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & mode)
        return fd
    except OSError as e:
        raise FileError(path, f"cannot open the audit log: {e.strerror}") from None


def _existing(path: Path) -> int:
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise FileError(
                path, "the audit log is a symbolic link; refusing to follow it"
            ) from None
        raise
    kind = os.fstat(fd).st_mode
    if not stat.S_ISREG(kind):
        os.close(fd)
        raise FileError(path, "the audit log is not a regular file")
    return fd


class AuditLog:
    """An open, locked audit log; see :func:`locked`."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def append(self, entries: list[dict[str, t.Any]]) -> None:
        """Append one JSON line per entry, and fsync.

        :param entries: The entries.
        """
        data = b"".join(json.dumps(e).encode("utf-8") + b"\n" for e in entries)
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # the last line was cut short: start anew
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)


@contextlib.contextmanager
def locked(path: Path, like: os.stat_result) -> Iterator[AuditLog]:
    """Open the audit log for appending, holding its lock, which also
    serialises edits of the settings file.

    :param path: The audit log; created when missing.
    :param like: The settings file's ``stat``: a new log is no wider.
    :raises FileError: The log is a symbolic link, not a regular file, or
        cannot be opened.
    """
    fd = _open(path, stat.S_IMODE(like.st_mode) & 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield AuditLog(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class History:
    """The entries of an audit log and the lines that could not be read.

    :param lines: ``(line number, entry)`` for each entry, oldest first.
    :param skipped: ``(line number, why)`` for each line left out.
    """

    lines: list[tuple[int, dict[str, t.Any]]]
    skipped: list[tuple[int, str]]

    @property
    def entries(self) -> list[dict[str, t.Any]]:
        """The entries, oldest first."""
        return [entry for _, entry in self.lines]


def history(path: Path) -> History:
    """Read the audit log; a missing log is empty.

    :param path: The JSON-lines audit log.
    :raises FileError: It cannot be read, or is a symbolic link.
    """
    try:
        _, data = read_regular_file(path, None, follow_symlinks=False)
    except FileError:
        if not os.path.lexists(path):
            return History([], [])
        raise
    entries: list[tuple[int, dict[str, t.Any]]] = []
    skipped: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            skipped.append((number, "not UTF-8"))
            continue
        except (ValueError, RecursionError):
            entry = None
        if not isinstance(entry, dict):
            skipped.append((number, "not a JSON object"))
            continue
        entries.append((number, entry))
    return History(entries, skipped)
