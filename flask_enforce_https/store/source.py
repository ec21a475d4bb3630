"""Settings from a store, for a running application: the revision in force
in memory, kept in step by a :class:`~.poller.Poller` thread per process.

The request path only reads an attribute. The poller starts on the first
call of :meth:`StoreSource.current` in each process, so that under
``gunicorn --preload`` it runs in every worker and never in the master
(a thread does not survive a fork, and a connection opened before one must
not be used on both sides of it): after a fork, the child forgets the
parent's poller and connections and starts its own.

When the store cannot be reached the settings in force stay, whatever they
are: never the defaults, which would loosen security.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import typing as t
from pathlib import Path

from ..errors import SettingsError
from ..files import FileError
from ..loading import Purpose
from ..settings import Settings, diff_settings, parse_settings
from ..sources import Status
from . import cache, forks, startup
from .errors import (
    MalformedRevisionError,
    RevisionNotFoundError,
    StoreError,
)
from .poller import Poller
from .records import Revision
from .store import Store
from .urls import StoreURL, parse_url
from .writer import StoreWriter

logger = logging.getLogger("flask_enforce_https")

#: The shortest time between two polls, whatever the reload interval.
MIN_INTERVAL = 0.1

Applied = t.Callable[[Settings, list[str]], None]
Rejected = t.Callable[[SettingsError], None]
Outage = t.Callable[[StoreError, float], None]
Recovery = t.Callable[[float], None]


class StoreSource:
    """The settings of a store, as one process applies them.

    :param url: The store.
    :param application: The application's name, for heartbeats.
    :param interval: Seconds between polls (at least :data:`MIN_INTERVAL`).
    :param cache: The local cache file.
    :param listen: On PostgreSQL, also wait for the notification each write
        sends, so that a change applies at once.
    :param purpose: What the application is loaded for: a serving process
        polls; a command reads once; a store command reads nothing.
    :raises SchemaError: The store has no tables, or unknown ones.
    :raises StoreError: The store cannot be reached and there is no cache.
    :raises SettingsError: The revision in force (or the cache, when the
        store cannot be reached) holds invalid settings.
    """

    def __init__(
        self,
        url: str | StoreURL,
        *,
        application: str,
        interval: float,
        cache: Path,
        listen: bool = True,
        purpose: Purpose = Purpose.SERVE,
    ) -> None:
        self.url = parse_url(url)
        self.store = Store(self.url)
        self.application = application
        self.interval = max(interval, MIN_INTERVAL)
        self.cache = cache
        self.listen = listen and self.url.dialect == "postgresql"
        #: The revision in force (0: the store has none) and when this
        #: process applied it (epoch seconds).
        self.revision = 0
        self.applied_at = time.time()
        #: When the store stopped answering (epoch seconds); ``None`` when
        #: it answers.
        self.down_since: float | None = None
        #: Why the store does not answer, during an outage.
        self.error: StoreError | None = None
        #: Why the newest revision was not applied, when it was not.
        self.rejection: SettingsError | StoreError | None = None
        self.applied: list[Applied] = []
        self.rejected: list[Rejected] = []
        self.unreachable: list[Outage] = []
        self.reachable: list[Recovery] = []
        self._settings = Settings()
        self._rejected = 0
        self._polls = purpose is Purpose.SERVE
        self._poller: Poller | None = None
        self._lock = threading.Lock()
        if purpose is not Purpose.STORE_COMMAND:
            try:
                self._load(purpose)
            finally:
                # No connection made here may cross a fork.
                self.store.close()
        forks.track(self)

    def __repr__(self) -> str:
        return f"StoreSource({str(self.url)!r}, revision={self.revision})"

    def _where(self, number: int) -> str:
        return f"{self.url} (revision {number})"

    def _load(self, purpose: Purpose) -> None:
        begun = startup.start(self.store, self.cache, serving=purpose is Purpose.SERVE)
        self._settings, self.revision = begun.settings, begun.revision
        self._rejected, self.rejection = begun.rejected, begun.rejection
        # Said at start: the outage begins without a second line.
        self.down_since, self.error = begun.down_since, begun.error
        if begun.document is not None and purpose is Purpose.SERVE:
            self._save(begun.revision, begun.document)

    # --- the request path ---------------------------------------------------

    def current(self) -> Settings:
        """Return the settings in force, starting this process's poller on
        the first call."""
        if self._poller is None and self._polls:
            self._start()
        return self._settings

    def writer(self) -> StoreWriter:
        """Return a writer of this store's settings, for the command line
        and the console (see :func:`~flask_enforce_https.writers.writer_for`)."""
        return StoreWriter(self.store)

    def peek(self) -> Settings:
        """Return the settings in force, starting nothing."""
        return self._settings

    def _start(self) -> None:
        with self._lock:
            if self._poller is None:
                poller = Poller(self)
                poller.start()
                self._poller = poller

    def status(self) -> Status:
        """Return the store, its state and when the settings were applied."""
        if self.down_since is not None:
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.down_since))
            state = (
                f"stale: the store has not answered since {since} ({self.error});"
                f" revision {self.revision} stays in force"
            )
        elif self.rejection is not None:
            state = f"stale: {self.rejection}; revision {self.revision} stays in force"
        else:
            state = f"ok, revision {self.revision}"
        return Status(str(self.url), state, self.applied_at)

    def close(self) -> None:
        """Stop the poller and close the connections."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.stop()
        self.store.close()

    # --- called by the poller -----------------------------------------------

    def refresh(self) -> None:
        """Apply the store's head when it is not the revision in force.

        A head that is not valid is rejected, once; the newest valid
        revision under it is applied instead, if it is newer than the one in
        force, so that every process of a farm enforces the same revision
        whenever it polled.

        :raises StoreError: The store cannot be reached.
        """
        number = self.store.head_number()
        if number == self.revision or number == self._rejected:
            return
        try:
            revision = self.store.revision(number)
            settings = parse_settings(revision.document, self._where(number))
        except RevisionNotFoundError as e:
            if e.head != number:
                return  # the head moved between the two reads: next poll
            # A head naming no revision was made by hand, as a malformed
            # one was: a bad head, not an outage.
            problem: SettingsError | StoreError = e
        except (MalformedRevisionError, SettingsError) as e:
            problem = e
        else:
            # Cleared first: a reader that sees the new revision must not
            # see the old rejection with it.
            self._rejected, self.rejection = 0, None
            self._apply(revision, settings)
            return
        # Found before the head is marked rejected, which no later poll
        # reads again: a store lost during the search leaves the head to be
        # read again, rather than this process on an older revision.
        newest = (
            self.store.newest_valid(number, self.revision)
            if number - 1 > self.revision
            else None
        )
        self._reject(number, problem, newest[0].number if newest else None)
        if newest is not None:
            self._apply(*newest)

    def _apply(self, revision: Revision, settings: Settings) -> None:
        number = revision.number
        if number < self.revision:
            logger.warning(
                "settings store %s went back from revision %d to %d (restored"
                " from a backup?): applying it",
                self.url,
                self.revision,
                number,
            )
        changes = diff_settings(self._settings, settings)
        self.revision, self.applied_at = number, time.time()
        self._settings = settings
        logger.info(
            "settings revision %d applied from %s: %s",
            number,
            self.url,
            "; ".join(changes) or "no change",
        )
        for listener in self.applied:
            listener(settings, changes)
        self._save(number, revision.document)

    def _reject(
        self,
        number: int,
        error: SettingsError | StoreError,
        instead: int | None = None,
    ) -> None:
        self._rejected, self.rejection = number, error
        logger.error(
            "settings revision %d of %s not applied, %s: %s",
            number,
            self.url,
            f"revision {self.revision} stays in force"
            if instead is None
            else f"revision {instead}, the newest valid one under it, applies",
            error,
        )
        problem = (
            error
            if isinstance(error, SettingsError)
            else SettingsError(self._where(number), "", str(error))
        )
        for listener in self.rejected:
            listener(problem)

    def _save(self, number: int, document: t.Mapping[str, t.Any]) -> None:
        try:
            cache.write(self.cache, str(self.url), number, document)
        except (OSError, FileError) as e:
            logger.warning(
                "cannot write the settings cache %s (%s): a restart while the"
                " store is down would fail",
                self.cache,
                getattr(e, "strerror", None) or e,
            )

    def beat(self) -> None:
        """Record this process's revision in the store.

        :raises StoreError: The store cannot be reached.
        """
        self.store.heartbeat(
            socket.gethostname(), os.getpid(), self.application, self.revision
        )

    def went_down(self, error: StoreError) -> None:
        """Note that the store does not answer: one log line and one signal
        per outage, not per poll."""
        if self.down_since is not None:
            self.error = error
            return
        self.down_since, self.error = time.time(), error
        logger.warning(
            "settings store unreachable, revision %d stays in force until it"
            " answers again: %s",
            self.revision,
            error,
        )
        for listener in self.unreachable:
            listener(error, self.down_since)

    def came_back(self) -> None:
        """Note that the store answers again, if it did not."""
        if self.down_since is None:
            return
        down_for = time.time() - self.down_since
        self.down_since, self.error = None, None
        logger.warning(
            "settings store %s answers again after %.1f s", self.url, down_for
        )
        for listener in self.reachable:
            listener(down_for)

    def after_fork(self) -> None:
        """Forget, in a forked child, the parent's poller and connections."""
        # The parent's poller thread does not exist here; its connections
        # belong to the parent, so they are forgotten, not closed.
        self._lock = threading.Lock()
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.abandon()
        # A new engine, not just a new pool: a lock of the old one (its
        # statement cache's, its pool's) may have been held by the parent's
        # poller at the fork, and would never be released here.
        self.store.forget_connections()
        forks.keep(self.store)
        self.store = Store(self.url)
