"""Exceptions raised by flask-enforce-https.

Every error the extension raises is an :class:`EnforceHTTPSError`, so an
application can catch them all at once; the subclasses say what went wrong
and where, in words an operator can act on.
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence

if t.TYPE_CHECKING:
    from .history import HistoryEntry


class EnforceHTTPSError(Exception):
    """Base class of every error raised by flask-enforce-https."""


class ConfigurationError(EnforceHTTPSError, ValueError):
    """An ``ENFORCE_HTTPS_*`` config key or a declaration has a bad value.

    :param key: The config key or argument that is wrong.
    :param problem: What is wrong with it, and what would be right.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class SettingsError(EnforceHTTPSError, ValueError):
    """Administrator settings are invalid.

    :param source: Where the settings came from: a file path, or
        ``"ENFORCE_HTTPS_SETTINGS"`` for a mapping in the config.
    :param key: The dotted key that is wrong, such as
        ``"applications.shop.force_https_screens"``; empty when the whole
        source is unusable.
    :param problem: What is wrong, and what would be right.
    :param line: The line of the problem in the file, when it is known.
    """

    def __init__(
        self, source: str, key: str, problem: str, line: int | None = None
    ) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        what = f"{key}: {problem}" if key else problem
        super().__init__(f"{where}: {what}")


class ConflictError(EnforceHTTPSError):
    """The settings changed since the version a writer read them at: another
    change came first. Nothing was written; nothing is lost either: read the
    settings again, review the other change and apply yours on top of it.

    Raised by every :class:`~flask_enforce_https.writers.SettingsWriter`;
    the store's :class:`~flask_enforce_https.store.ConflictError` is one.

    :param message: What happened, naming the other change.
    :param expected_version: The version the writer read the settings at.
    :param current_version: The version in force now.
    :param author: Who made the change in force now, when known.
    :param changes: The changes made since ``expected_version``, oldest
        first, when known (:class:`~flask_enforce_https.history.HistoryEntry`).
    """

    def __init__(
        self,
        message: str,
        *,
        expected_version: str,
        current_version: str,
        author: str | None = None,
        changes: Sequence[HistoryEntry] = (),
    ) -> None:
        self.expected_version = expected_version
        self.current_version = current_version
        self.author = author
        self.changes = list(changes)
        super().__init__(message)


class RevisionError(EnforceHTTPSError, LookupError):
    """A revision cannot be reverted to: there is no such revision, or the
    settings disagree with their history (a file edited by hand)."""


class ReadOnlySettingsError(EnforceHTTPSError):
    """The settings come from somewhere no writer can change, such as a
    mapping in the application's config."""
