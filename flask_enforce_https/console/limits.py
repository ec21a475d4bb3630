"""A bounded, in-memory limit on failed attempts, per key."""

from __future__ import annotations

import math
import threading
import time
import typing as t
from collections import OrderedDict, deque

from werkzeug.exceptions import TooManyRequests

from ..errors import ConfigurationError


class TooManyAttempts(TooManyRequests):
    """Too many failed sign-ins from this client address for this user name.

    A werkzeug ``429 Too Many Requests`` with ``Retry-After``: the console
    renders it as it likes, and one nobody handles is still a 429, never a
    500 or a password check.

    :param retry_after: Seconds until the next attempt is checked.
    """

    description = (
        "Too many failed sign-ins for this user from this address; try again later."
    )

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after: int = retry_after


class FailureLimit:
    """Counts failures by key within a sliding window, for a bounded number
    of keys, thread-safely.

    :param max_failures: Failures allowed within ``window``.
    :param window: Seconds a failure counts for.
    :param tracked: The most keys remembered; the one that failed longest
        ago is forgotten first. Attempts being checked may hold a few more
        for as long as they take.
    :raises ConfigurationError: A bound is not positive.
    """

    def __init__(self, max_failures: int, window: float, tracked: int) -> None:
        for name, value in (
            ("max_failures", max_failures),
            ("window", window),
            ("tracked", tracked),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not value > 0
                or math.isinf(value)
            ):
                raise ConfigurationError(
                    f"basic_auth {name}", f"must be a positive number, not {value!r}"
                )
        if not isinstance(max_failures, int) or not isinstance(tracked, int):
            raise ConfigurationError(
                "basic_auth max_failures and tracked", "must be whole numbers"
            )
        self.max_failures = max_failures
        self.window = float(window)
        self.tracked = tracked
        self._failures: OrderedDict[t.Hashable, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def attempt(self, key: t.Hashable) -> float:
        """Count an attempt for ``key`` as a failure, unless too many failed.

        Then call :meth:`failed` or :meth:`succeeded`. Counting first means
        that attempts made at the same moment cannot all pass.

        :param key: What the attempt is counted by.
        :return: The attempt, for :meth:`failed` or :meth:`succeeded`.
        :raises TooManyAttempts: ``key`` failed ``max_failures`` times in
            the window; this attempt is not counted.
        """
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(key)
            if failures is None:
                failures = self._failures[key] = deque(maxlen=self.max_failures)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.max_failures:
                wait = failures[0] + self.window - now
                raise TooManyAttempts(max(1, math.ceil(wait)))
            failures.append(now)
            return now

    def failed(self, key: t.Hashable, attempt: float) -> None:
        """The attempt failed: it stays counted, and ``key`` becomes the one
        that failed last. Keys beyond ``tracked`` are forgotten here, so
        that a success never makes room by forgetting another's failures.

        :param key: As given to :meth:`attempt`.
        :param attempt: What :meth:`attempt` returned.
        """
        with self._lock:
            if key in self._failures:
                self._failures.move_to_end(key)
            while len(self._failures) > self.tracked:
                self._failures.popitem(last=False)

    def succeeded(self, key: t.Hashable, attempt: float) -> None:
        """Take back one attempt counted by :meth:`attempt`: it succeeded.

        Earlier failures still count, for this key too: HTTP Basic sends
        the password with every request, so a success that wiped them
        would give whoever shares the address and guesses the name new
        tries with each of the real user's requests.

        :param key: As given to :meth:`attempt`.
        :param attempt: What :meth:`attempt` returned.
        """
        with self._lock:
            failures = self._failures.get(key)
            if failures is None:
                return
            try:
                failures.remove(attempt)
            except ValueError:  # aged out or evicted meanwhile
                return
            if not failures:
                # Keys that only ever succeeded take no room from others.
                del self._failures[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)
