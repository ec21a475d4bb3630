"""The :class:`Store`: the settings store's API for the command line, the
console and the applications' pollers.

Each call is one transaction on a connection from the store's pool; see
:mod:`~flask_enforce_https.store.revisions` for how a write stays safe with
several writers.
"""

from __future__ import annotations

import datetime
import os
import typing as t
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType

import sqlalchemy as sa

from ..errors import SettingsError
from ..settings import Settings, parse_settings
from . import heartbeats as beats
from . import revisions, schema
from .changes import canonical_json
from .connection import (
    CONNECT_TIMEOUT,
    create_engine,
    create_sqlite_file,
    require_sqlite_file,
    store_errors,
)
from .errors import MalformedRevisionError, RevisionNotFoundError
from .records import HistoryEntry, Revision, Status
from .urls import StoreURL, parse_url

#: Where the document of a new revision is said to come from in errors.
NEW_REVISION = "new revision"

Clock = Callable[[], datetime.datetime]


def utc_now() -> datetime.datetime:
    """The time now, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)


class Store:
    """A settings store at ``url``; nothing connects until it is used, and
    nothing creates or alters a table but :meth:`init` and :meth:`upgrade`.

    :param url: ``sqlite:///path/settings.db`` or
        ``postgresql+psycopg://user@host/db[?schema=NAME]``.
    :param clock: Returns the time now, aware; times of revisions and
        heartbeats come from it.
    :param timeout: Seconds to wait for a connection or a lock.
    :raises StoreURLError: The URL is not a store's.
    """

    def __init__(
        self,
        url: str | StoreURL,
        *,
        clock: Clock = utc_now,
        timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.url = parse_url(url)
        self._clock = clock
        self._engine = create_engine(self.url, timeout)

    def __repr__(self) -> str:
        return f"Store({str(self.url)!r})"

    def close(self) -> None:
        """Close the store's connections."""
        self._engine.dispose()

    def forget_connections(self) -> None:
        """Drop the pool's connections without closing them: in a forked
        child, whose connections are its parent's."""
        self._engine.dispose(close=False)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, create: bool = False) -> Iterator[sa.Connection]:
        if create:
            if self.url.dialect == "sqlite":
                create_sqlite_file(self.url)
        else:
            require_sqlite_file(self.url)
        with store_errors(self.url), self._engine.begin() as connection:
            yield connection

    # --- schema -----------------------------------------------------------

    def init(self) -> bool:
        """Create the tables (and the PostgreSQL schema) unless they exist.

        :returns: Whether anything was created.
        :raises SchemaError: Tables exist at another schema version.
        :raises StoreError: The store cannot be reached or refused.
        """
        with self._transaction(create=True) as connection:
            return schema.init(
                connection, self.url.schema, str(self.url), self._clock()
            )

    def check(self) -> None:
        """Make sure the tables exist, at the version this code knows.

        :raises SchemaError: They do not; the message says which command to
            run.
        :raises StoreError: The store cannot be reached.
        """
        with self._transaction() as connection:
            schema.check(connection, self.url.schema, str(self.url))

    def schema_version(self) -> int | None:
        """The version of the tables; ``None`` when there are none."""
        if self.url.dialect == "sqlite" and not os.path.exists(
            str(self.url.url.database)
        ):
            return None
        with self._transaction() as connection:
            return schema.schema_version(connection, self.url.schema)

    def upgrade(
        self,
        steps: Mapping[int, schema.Step] = schema.STEPS,
        version: int = schema.SCHEMA_VERSION,
    ) -> list[int]:
        """Migrate the tables to ``version``, in one transaction (on SQLite,
        whose DDL is not transactional, a failed step may leave its own
        changes).

        :param steps: The step from each version to the next.
        :param version: The version to reach.
        :returns: The versions reached, in order; empty when already there.
        :raises SchemaError: No tables, newer ones, or a step is missing.
        """
        with self._transaction() as connection:
            return schema.upgrade(
                connection, self.url.schema, str(self.url), steps, version
            )

    # --- reading ----------------------------------------------------------

    def head(self) -> Revision | None:
        """The revision in force; ``None`` before the first one."""
        with self._transaction() as connection:
            return revisions.read_head(connection, str(self.url))

    def head_number(self) -> int:
        """The number of the revision in force; 0 before the first."""
        with self._transaction() as connection:
            return revisions.head_number(connection)

    def revision(self, number: int) -> Revision:
        """Revision ``number``.

        :raises RevisionNotFoundError: There is none.
        """
        with self._transaction() as connection:
            found = revisions.read(connection, number, str(self.url))
            if found is None:
                raise RevisionNotFoundError(number, revisions.head_number(connection))
            return found

    def history(self, since: int = 0) -> list[HistoryEntry]:
        """Each key changed by each revision after ``since``, oldest first
        (in a revision: the environment, then applications by name).

        :param since: Leave out this revision and those before it.
        """
        with self._transaction() as connection:
            return revisions.history(connection, since)

    def newest_valid(
        self, below: int, above: int = 0
    ) -> tuple[Revision, Settings] | None:
        """The newest revision under ``below`` and over ``above`` whose
        settings are valid, and its settings: what a farm enforces while the
        head is a bad one. ``None`` when there is none.

        :raises StoreError: The store cannot be reached.
        """
        where = str(self.url)
        if below - 1 <= above:
            return None
        with self._transaction() as connection:
            for number in range(below - 1, above, -1):
                try:
                    found = revisions.read(connection, number, where)
                    if found is not None:
                        return found, parse_settings(
                            found.document, f"{where} (revision {number})"
                        )
                except (MalformedRevisionError, SettingsError):
                    continue
        return None

    def status(self, expire_after: datetime.timedelta = beats.EXPIRE_AFTER) -> Status:
        """The revision in force and the processes seen in the last
        ``expire_after``; a head changed by hand into a bad one (malformed,
        missing, or invalid settings) is reported, not raised, so that the
        processes can still be seen.

        :param expire_after: Leave out processes not seen for this long.
        """
        since = self._clock() - expire_after
        with self._transaction() as connection:
            processes = beats.seen_since(connection, since)
            try:
                found = revisions.read_head(connection, str(self.url))
                if found is not None:
                    parse_settings(found.document, str(self.url))
            except (MalformedRevisionError, SettingsError) as e:
                number = revisions.head_number(connection)
                return Status(None, processes, bad_head=number, problem=str(e))
            return Status(found, processes)

    # --- writing ----------------------------------------------------------

    def apply(
        self,
        document: Mapping[str, t.Any],
        expected: int,
        author: str,
        origin: str,
        reason: str | None = None,
    ) -> int:
        """Make ``document`` the settings in force, as a new revision.

        :param document: The whole settings document (``environment`` and
            ``applications`` tables), as a file would hold it.
        :param expected: The revision the document was made against (0 for
            an empty store).
        :param author: Who is applying it.
        :param origin: ``"cli"``, ``"console"``, ``"import"`` or ``"revert"``.
        :param reason: Why, in the author's words.
        :returns: The new revision's number; ``expected`` when the document
            is the one in force already (then nothing is written).
        :raises SettingsError: The document is invalid; nothing is written.
        :raises ConflictError: Revision ``expected`` is no longer the one in
            force; nothing is written.
        :raises SchemaError: The tables are missing or at another version.
        :raises StoreError: The store cannot be reached or refused.
        """
        if origin not in schema.ORIGINS:
            raise ValueError(
                f"origin: expected one of {schema.ORIGINS}, got {origin!r}"
            )
        parse_settings(document, NEW_REVISION)
        try:
            text = canonical_json(document)
        except (TypeError, ValueError) as e:
            raise SettingsError(NEW_REVISION, "", f"not a JSON document: {e}") from None
        try:
            with self._transaction() as connection:
                schema.check(connection, self.url.schema, str(self.url))
                return revisions.write(
                    connection,
                    str(self.url),
                    text,
                    expected,
                    author,
                    origin,
                    reason,
                    self._clock(),
                    self.url.schema,
                )
        except revisions.Unchanged:
            return expected

    def revert(
        self, number: int, expected: int, author: str, reason: str | None = None
    ) -> int:
        """Apply revision ``number``'s document again, as a new revision
        whose origin is ``"revert"``.

        :param number: The revision to go back to.
        :param expected: The revision in force, as the author saw it.
        :param author: Who is reverting.
        :param reason: Why; the new revision's reason starts with
            ``revert to revision N``.
        :returns: The new revision's number (``expected`` when revision
            ``number``'s document is in force already).
        :raises RevisionNotFoundError: There is no revision ``number``.
        :raises ConflictError: See :meth:`apply`.
        """
        target = self.revision(number)
        said = f"revert to revision {number}" + (f": {reason}" if reason else "")
        return self.apply(target.document, expected, author, "revert", said)

    def heartbeat(self, host: str, pid: int, application: str, revision: int) -> None:
        """Record that a process applied ``revision`` (an upsert).

        :param host: The process's host name.
        :param pid: Its process id.
        :param application: The application's name.
        :param revision: The revision it applied (0: none).
        """
        with self._transaction() as connection:
            beats.beat(connection, host, pid, application, revision, self._clock())
