"""The thread that keeps one process's settings in step with the store.

Every interval it reads the head (one small query) and, when the head
moved, the new revision, which :meth:`StoreSource.refresh` validates before
applying it. On PostgreSQL it also holds a connection that LISTENs for the
notification every write sends, and wakes at once when one comes, so a
change lands in well under a second; the polls still run, so a lost
notification (PgBouncer in transaction mode forwards none) costs at most
an interval. When the store does not answer, it retries with exponential
backoff and jitter, so that a farm does not reconnect in lockstep.

It records its heartbeat at start, after applying a revision, and every
:data:`~.heartbeats.HEARTBEAT_PERIOD` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import typing as t

import psycopg
from psycopg.conninfo import make_conninfo

from . import forks
from .connection import KEEPALIVES
from .errors import StoreError
from .heartbeats import HEARTBEAT_PERIOD
from .revisions import NOTIFY_CHANNEL, notify_payload
from .urls import StoreURL

logger = logging.getLogger("flask_enforce_https")

#: The longest wait between two tries to reach a store that does not
#: answer, in seconds.
MAX_BACKOFF = 10.0
#: Seconds to wait for the listening connection.
LISTEN_TIMEOUT = 5


def backoff(failures: int, interval: float) -> float:
    """Seconds to wait after ``failures`` failed tries in a row: doubling
    from the interval up to :data:`MAX_BACKOFF`, then a random part of it
    (from half to all).

    :param failures: How many tries failed in a row (at least 1).
    :param interval: The poll interval.
    """
    ceiling = min(MAX_BACKOFF, max(interval, MAX_BACKOFF / 64) * 2 ** (failures - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not a secret)


class Polled(t.Protocol):
    """What the poller keeps in step: a
    :class:`~flask_enforce_https.store.source.StoreSource`."""

    url: StoreURL
    interval: float
    listen: bool
    revision: int

    def refresh(self) -> None:
        """Apply the store's head when it moved."""

    def beat(self) -> None:
        """Record this process's revision."""

    def went_down(self, error: StoreError) -> None:
        """Note an outage."""

    def came_back(self) -> None:
        """Note the end of an outage."""


class Poller(threading.Thread):
    """Polls (and on PostgreSQL listens to) the store for ``source``.

    :param source: The settings it keeps in step.
    """

    def __init__(self, source: Polled) -> None:
        super().__init__(name=f"enforce-https-store {source.url}", daemon=True)
        self.source = source
        self._stopping = threading.Event()
        self._listener: psycopg.Connection[t.Any] | None = None
        self._prefix = notify_payload(source.url.schema, 0).rpartition(":")[0] + ":"

    def stop(self, timeout: float | None = None) -> None:
        """Stop, close the listening connection, and wait for the thread.

        :param timeout: Seconds to wait at most; by default, as long as a
            poll and a wait may take.
        """
        self._stopping.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(
                self.source.interval + 2 * LISTEN_TIMEOUT
                if timeout is None
                else timeout
            )

    def abandon(self) -> None:
        """Forget this poller in a forked child: its thread is not here, and
        its connection is the parent's."""
        if self._listener is not None:
            forks.keep(self._listener)
            self._listener = None

    def run(self) -> None:
        source = self.source
        failures = 0
        next_beat = 0.0
        while not self._stopping.is_set():
            applied = source.revision
            try:
                if source.listen:
                    self._listen()
                source.refresh()
                now = time.monotonic()
                if now >= next_beat or source.revision != applied:
                    source.beat()
                    next_beat = now + HEARTBEAT_PERIOD
            except StoreError as e:
                self._drop()
                source.went_down(e)
                failures += 1
                self._stopping.wait(backoff(failures, source.interval))
                continue
            except Exception:
                # A bug must not end this process's updates for good: the
                # settings in force stay, and the poller tries again.
                logger.exception("settings store poller failed; trying again")
                self._drop()
                failures += 1
                self._stopping.wait(backoff(failures, source.interval))
                continue
            failures = 0
            source.came_back()
            self._wait(source.interval)
        self._drop()

    def _listen(self) -> None:
        if self._listener is not None:
            return
        url = self.source.url
        try:
            conninfo = make_conninfo(
                url.url.set(drivername="postgresql").render_as_string(
                    hide_password=False
                ),
                connect_timeout=LISTEN_TIMEOUT,
                **KEEPALIVES,
            )
            connection = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as e:
            words = _words(e, url.url.password)
            raise StoreError(f"{url}: cannot listen: {words}") from None
        try:
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
        except psycopg.Error as e:
            connection.close()
            words = _words(e, url.url.password)
            raise StoreError(f"{url}: cannot listen: {words}") from None
        self._listener = connection

    def _wait(self, seconds: float) -> None:
        listener = self._listener
        if listener is None:
            self._stopping.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                # At most a second at a time, so that stop() is prompt.
                for notice in listener.notifies(timeout=min(left, 1.0)):
                    if notice.payload.startswith(self._prefix):
                        return
                if self._stopping.is_set():
                    return
        except psycopg.Error:
            # The listening connection was closed (a restart, or an
            # administrator's pg_terminate_backend): poll now, which
            # reconnects and catches up, or finds the store down.
            self._drop()

    def _drop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(psycopg.Error):
                listener.close()


def _words(error: psycopg.Error, password: str | None) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text.replace(password, "***") if password else text
