"""Exceptions of the settings store.

Every one is an :class:`~flask_enforce_https.errors.EnforceHTTPSError`, and
none of their messages holds a database password: URLs are shown with
:func:`~flask_enforce_https.store.urls.hide_password`.
"""

from __future__ import annotations

from ..errors import EnforceHTTPSError


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


class ConflictError(StoreError):
    """The head moved since the revision a writer expected: another writer
    applied a revision first. Nothing was written.

    :param expected: The revision the writer expected to be in force.
    :param current: The revision in force now.
    :param author: Who wrote the revision in force now.
    """

    def __init__(self, expected: int, current: int, author: str | None) -> None:
        self.expected = expected
        self.current = current
        self.author = author
        by = f" by {author}" if author else ""
        super().__init__(
            f"the settings changed since revision {expected}: revision"
            f" {current}{by} is in force now; nothing was written. Review"
            f" revision {current} and apply your change against it."
        )


class RevisionNotFoundError(StoreError, LookupError):
    """No revision has the number asked for.

    :param revision: The number asked for.
    :param head: The revision in force (0 when the store has none).
    """

    def __init__(self, revision: int, head: int) -> None:
        self.revision = revision
        self.head = head
        known = f"revisions are 1 to {head}" if head else "the store has no revision"
        super().__init__(f"no revision {revision}: {known}")
