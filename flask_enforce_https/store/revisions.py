"""Reading and writing revisions, on a connection the caller holds.

:func:`write` is the one way a revision is made. Inside the caller's
transaction it first moves the head from the revision the writer expects to
the next one (``UPDATE ... WHERE revision = :expected``). Only one of two
writers that expect the same revision can do that; the other gets a
:class:`~flask_enforce_https.store.errors.ConflictError` naming the revision
that won. Moving the head first also takes the write lock first, on SQLite
as on PostgreSQL, so a writer never waits holding a read it would have to
upgrade. Then come the revision and its audit rows, and on PostgreSQL a
``NOTIFY enforce_https`` with the revision's number, which the server sends
when the transaction commits. Revisions and audit rows are only ever
inserted.
"""

from __future__ import annotations

import datetime
import json
import typing as t

import sqlalchemy as sa

from ..errors import SettingsError
from ..settings import parse_settings
from .changes import document_changes
from .errors import ConflictError, MalformedRevisionError
from .records import HistoryEntry, Revision
from .schema import audit, head, revisions

#: The channel every write notifies on PostgreSQL; the payload is
#: :func:`notify_payload`'s, so that stores in other schemas of the same
#: database can tell their own writes apart.
NOTIFY_CHANNEL = "enforce_https"


def notify_payload(schema_name: str | None, number: int) -> str:
    """Return what a write to ``schema_name`` sends on :data:`NOTIFY_CHANNEL`:
    ``"<schema>:<revision>"``, the schema ``public`` when none is named.

    :param schema_name: The store's PostgreSQL schema, or ``None``.
    :param number: The new revision's number.
    """
    return f"{schema_name or 'public'}:{number}"


class Unchanged(Exception):
    """The document to write is the one in force: the caller rolls back."""


def head_number(connection: sa.Connection) -> int:
    """The number of the revision in force; 0 before the first."""
    return connection.scalar(sa.select(head.c.revision)) or 0


def read(connection: sa.Connection, number: int, where: str) -> Revision | None:
    """Revision ``number``, or ``None``.

    :param connection: A connection to the store.
    :param number: The revision.
    :param where: The store, for messages.
    :raises MalformedRevisionError: Its document is not a JSON object.
    """
    row = connection.execute(
        sa.select(revisions).where(revisions.c.revision == number)
    ).one_or_none()
    if row is None:
        return None
    try:
        document = json.loads(row.document)
    except (ValueError, RecursionError):
        # RecursionError: nested deeper than the parser goes.
        document = None
    if not isinstance(document, dict):
        raise MalformedRevisionError(
            f"{where}: revision {number} is not a JSON document: the table"
            " was changed by hand"
        )
    return Revision(
        row.revision, document, row.author, row.origin, row.reason, row.created_at
    )


def read_head(connection: sa.Connection, where: str) -> Revision | None:
    """The revision in force; ``None`` before the first.

    :raises MalformedRevisionError: The head names a revision that does not
        exist (the tables were changed by hand): never taken for an empty
        store, whose defaults would loosen the settings.
    """
    number = head_number(connection)
    if not number:
        return None
    found = read(connection, number, where)
    if found is None:
        raise MalformedRevisionError(
            f"{where}: the head names revision {number}, which does not exist:"
            " the tables were changed by hand"
        )
    return found


def write(
    connection: sa.Connection,
    where: str,
    text: str,
    expected: int,
    author: str,
    origin: str,
    reason: str | None,
    now: datetime.datetime,
    schema_name: str | None = None,
) -> int:
    """Append a revision and move the head to it.

    :param connection: A connection to the store, in a transaction.
    :param where: The store, for messages.
    :param text: The document, valid, as canonical JSON.
    :param expected: The revision the writer expects to be in force.
    :param author: Who writes it.
    :param origin: Where it comes from.
    :param reason: Why.
    :param now: When.
    :param schema_name: The store's PostgreSQL schema, for the notification.
    :returns: The new revision's number.
    :raises ConflictError: Revision ``expected`` is not in force.
    :raises Unchanged: The document is the one in force: roll back.
    """
    number = expected + 1
    moved = connection.execute(
        head.update()
        .where(head.c.id == 1, head.c.revision == expected)
        .values(revision=number, updated_at=now)
    )
    if moved.rowcount != 1:
        current = head_number(connection)
        try:
            found = read(connection, current, where) if current else None
        except MalformedRevisionError:
            found = None  # a conflict still, over a head changed by hand
        raise ConflictError(expected, current, found.author if found else None)
    # A revision changed by hand (not JSON, not valid settings, missing)
    # must not block the one that mends it: its audit rows then show every
    # key as new, and it is written even when it sets nothing.
    old: dict[str, t.Any] | None = {}
    if expected:
        try:
            before = read(connection, expected, where)
            if before is not None:
                parse_settings(before.document, where)
        except (MalformedRevisionError, SettingsError):
            before = None
        old = before.document if before is not None else None
    changes = document_changes(old or {}, json.loads(text))
    if not changes and old is not None:
        raise Unchanged
    connection.execute(
        revisions.insert().values(
            revision=number,
            document=text,
            author=author,
            origin=origin,
            reason=reason,
            created_at=now,
        )
    )
    if changes:
        connection.execute(
            audit.insert(),
            [
                {
                    "revision": number,
                    "scope": c.scope,
                    "key": c.key,
                    "old": None if c.old is None else json.dumps(c.old),
                    "new": None if c.new is None else json.dumps(c.new),
                }
                for c in changes
            ],
        )
    if connection.dialect.name == "postgresql":
        payload = notify_payload(schema_name, number)
        connection.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, payload)))
    return number


def history(connection: sa.Connection, since: int) -> list[HistoryEntry]:
    """Each key changed by each revision after ``since``, oldest first (in
    a revision: the environment, then applications by name, keys sorted).

    :param connection: A connection to the store.
    :param since: Leave out this revision and those before it.
    """
    query = (
        sa.select(
            audit,
            revisions.c.created_at,
            revisions.c.author,
            revisions.c.origin,
            revisions.c.reason,
        )
        .join(revisions, revisions.c.revision == audit.c.revision)
        .where(audit.c.revision > since)
    )
    entries = [
        HistoryEntry(
            time=row.created_at,
            user=row.author,
            scope=row.scope,
            key=row.key,
            old=None if row.old is None else json.loads(row.old),
            new=None if row.new is None else json.loads(row.new),
            revision=row.revision,
            origin=row.origin,
            reason=row.reason,
        )
        for row in connection.execute(query)
    ]
    return sorted(
        entries, key=lambda e: (e.revision, e.scope != "environment", e.scope, e.key)
    )
