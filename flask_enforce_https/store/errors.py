"""Exceptions of the settings store.

Every one is an :class:`~flask_enforce_https.errors.EnforceHTTPSError`, and
none of their messages holds a database password: URLs are shown with
:func:`~flask_enforce_https.store.urls.hide_password`.
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence

from .. import errors
from ..errors import EnforceHTTPSError

if t.TYPE_CHECKING:
    from ..history import HistoryEntry


class StoreError(EnforceHTTPSError):
    """The settings store cannot be used: it cannot be reached, or the
    database refused an operation. The message names the store's URL
    (password hidden) and what went wrong."""


class StoreURLError(StoreError, ValueError):
    """A store URL is not one the settings store can use."""


class SchemaError(StoreError):
    """The store's tables are missing, or their schema version is not the
    one this version of flask-enforce-https knows. The message says which
    command fixes it."""


class MalformedRevisionError(StoreError):
    """A revision's document is not a JSON object: the table was changed by
    hand. A running application keeps the settings in force."""


class ConflictError(StoreError, errors.ConflictError):
    """The head moved since the revision a writer expected: another writer
    applied a revision first. Nothing was written.

    A :class:`flask_enforce_https.errors.ConflictError`, whose versions are
    the revisions' numbers as text.

    :param expected: The revision the writer expected to be in force.
    :param current: The revision in force now.
    :param author: Who wrote the revision in force now.
    :param changes: The keys the revisions after ``expected`` changed, when
        the caller looked them up.
    """

    def __init__(
        self,
        expected: int,
        current: int,
        author: str | None,
        changes: Sequence[HistoryEntry] = (),
    ) -> None:
        self.expected = expected
        self.current = current
        by = f" by {author}" if author else ""
        errors.ConflictError.__init__(
            self,
            f"the settings changed since revision {expected}: revision"
            f" {current}{by} is in force now; nothing was written. Review"
            f" revision {current} and apply your change against it.",
            expected_version=str(expected),
            current_version=str(current),
            author=author,
            changes=changes,
        )


class RevisionNotFoundError(StoreError, errors.RevisionError):
    """No revision has the number asked for.

    :param revision: The number asked for.
    :param head: The revision in force (0 when the store has none).
    """

    def __init__(self, revision: int, head: int) -> None:
        self.revision = revision
        self.head = head
        known = f"revisions are 1 to {head}" if head else "the store has no revision"
        super().__init__(f"no revision {revision}: {known}")
