"""The :class:`StoreWriter`: the settings store behind the same
:class:`~flask_enforce_https.writers.SettingsWriter` interface as a settings
file, for ``flask https set``, ``unset``, ``history`` and ``revert`` and for
the console.

A change is made on the document of the revision in force, key by key, and
applied with :meth:`Store.apply <flask_enforce_https.store.Store.apply>`
against the version the caller read: the store's compare-and-swap refuses
it if another revision came first.
"""

from __future__ import annotations

from .. import errors
from ..edits import user_name
from ..errors import SettingsError
from ..layout import with_values
from ..settings import parse_settings
from ..writers import Current, History, Outcome, revert_reason
from .changes import document_changes
from .errors import ConflictError, MalformedRevisionError, RevisionNotFoundError
from .store import Store

#: How many times a change made against whatever is in force is made again
#: on a newer revision that came first.
RETRIES = 3


class StoreWriter:
    """Changes the settings in a store, as new revisions.

    A version is the number of the revision in force, as text.

    :param store: The store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.where = str(store.url)

    def read(self) -> Current:
        """Return the document in force and its revision's number.

        Over a head changed by hand into a bad one (not a JSON document,
        invalid settings, or a revision that does not exist), the document
        is that of the newest valid revision under it, which every process
        enforces meanwhile; a change is made on it and mends the head.
        """
        number = self.store.head_number()
        if not number:
            return Current({}, "0")
        try:
            head = self.store.revision(number)
            parse_settings(head.document, self.where)
        except (MalformedRevisionError, RevisionNotFoundError, SettingsError):
            newest = self.store.newest_valid(number)
            return Current(newest[0].document if newest else {}, str(number))
        return Current(head.document, str(number))

    def _expected(self, expected: str) -> int:
        if expected.isdigit() and expected.isascii():
            return int(expected)
        current = self.read().version
        raise errors.ConflictError(
            f"version {expected!r} is not a revision of this store; read the"
            f" settings again (revision {current} is in force) and apply your"
            " change against it.",
            expected_version=expected,
            current_version=current,
        )

    def change(
        self,
        scope: str,
        values: dict[str, object],
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
        origin: str = "cli",
    ) -> Outcome:
        """See :meth:`SettingsWriter.change
        <flask_enforce_https.writers.SettingsWriter.change>`; ``expected=None``
        applies the change on the revision in force, and again on a newer
        one that comes first (up to :data:`RETRIES` times)."""
        for attempt in range(RETRIES + 1):
            now = self.read()
            against = now.version if expected is None else expected
            document = with_values(now.document, scope, values)
            try:
                return self._apply(
                    now.document, document, against, author, reason, origin
                )
            except ConflictError:
                if expected is not None or attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply(
        self,
        before: dict[str, object],
        document: dict[str, object],
        expected: str,
        author: str | None,
        reason: str | None,
        origin: str,
    ) -> Outcome:
        number = self._expected(expected)
        try:
            written = self.store.apply(
                document, number, author or user_name(), origin, reason
            )
        except ConflictError as e:
            # Say what came first, for the console to show.
            changes = self.store.history(since=e.expected)
            raise ConflictError(e.expected, e.current, e.author, changes) from None
        if written == number:
            return Outcome([], str(number), None)
        return Outcome(document_changes(before, document), str(written), written)

    def history(self) -> History:
        """Return each key each revision changed, oldest first."""
        return History(self.store.history())

    def revert(
        self,
        revision: int,
        *,
        expected: str | None,
        author: str | None = None,
        reason: str | None = None,
    ) -> Outcome:
        """See :meth:`SettingsWriter.revert
        <flask_enforce_https.writers.SettingsWriter.revert>`: revision
        ``revision``'s document again, as a new revision; with
        ``expected=None``, on whichever revision is in force, as
        :meth:`change` does.

        :raises ~flask_enforce_https.store.RevisionNotFoundError: There is
            no such revision.
        """
        target = self.store.revision(revision)
        said = revert_reason(revision, reason)
        for attempt in range(RETRIES + 1):
            now = self.read()
            against = now.version if expected is None else expected
            try:
                return self._apply(
                    now.document, target.document, against, author, said, "revert"
                )
            except ConflictError:
                if expected is not None or attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def known_applications(self) -> set[str]:
        """Return the applications in the document in force and those whose
        processes sent a heartbeat recently."""
        named = self.read().document.get("applications", {})
        return {*named, *(p.application for p in self.store.status().processes)}

    def close(self) -> None:
        """Close the store's connections; the next call opens new ones."""
        self.store.close()
