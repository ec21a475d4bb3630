"""Forks: what a child process does with the sources it inherited.

A thread does not survive a fork, and a connection opened before one must
not be used on both sides of it: after a fork, each source in the child
forgets its parent's poller and connections, and starts its own poller on
its first request. What it inherited is kept, unused, for the child's life:
closing a PostgreSQL connection would close the parent's too, and so would
letting the garbage collector close it.
"""

from __future__ import annotations

import os
import typing as t
import weakref


class Forked(t.Protocol):
    """A source that knows what to do after a fork."""

    def after_fork(self) -> None:
        """Forget the parent's poller and connections."""


_sources: weakref.WeakSet[Forked] = weakref.WeakSet()
_inherited: list[object] = []


def track(source: Forked) -> None:
    """Call ``source.after_fork()`` in every child forked from now on."""
    _sources.add(source)


def keep(inherited: object) -> None:
    """Keep what a child inherited alive, unused, for the child's life."""
    _inherited.append(inherited)


def _after_fork() -> None:
    for source in list(_sources):
        source.after_fork()


os.register_at_fork(after_in_child=_after_fork)
