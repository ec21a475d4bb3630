"""Why an application is being loaded: to serve requests, or for a command.

A settings store is read differently by each. A serving process polls the
store and records its heartbeat; ``flask https show`` and friends read the
store once and leave no trace; ``flask https store ...`` must load an app
whose store has no tables yet (``store init`` is what creates them), so it
defers the schema check altogether. The commands say which with
:func:`loading_for`, around their call to the app factory; everything else
loads to serve.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from contextvars import ContextVar

#: The schemes of a store URL: the value of ``ENFORCE_HTTPS_SETTINGS`` is
#: a store rather than a file when it starts with one of them and ``://``.
STORE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class Purpose(enum.Enum):
    """What a loaded application is for."""

    #: Serve requests: poll the store, beat, fail fast without settings.
    SERVE = "serve"
    #: A ``flask https`` command: read the store once, no poller.
    COMMAND = "command"
    #: A ``flask https store`` command: the store may have no tables yet.
    STORE_COMMAND = "store-command"


_purpose: ContextVar[Purpose] = ContextVar(
    "enforce_https_purpose", default=Purpose.SERVE
)


def purpose() -> Purpose:
    """What the application being loaded now is for."""
    return _purpose.get()


@contextlib.contextmanager
def loading_for(value: Purpose) -> Iterator[None]:
    """Load applications for ``value`` inside the block.

    :param value: What they are for.
    """
    token = _purpose.set(value)
    try:
        yield
    finally:
        _purpose.reset(token)


def names_store(value: object) -> bool:
    """Tell whether a value of ``ENFORCE_HTTPS_SETTINGS`` names a settings
    store (``sqlite://...``, ``postgresql://...``) rather than a file.

    :param value: The config value or environment variable.
    """
    if not isinstance(value, str):
        return False
    scheme, sep, _ = value.partition("://")
    return bool(sep) and scheme.lower() in STORE_SCHEMES
