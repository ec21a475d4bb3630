"""What the ``flask https store`` commands share: opening the store named
by ``--url`` (or the app, or the environment) with every failure one line,
and the ``--url`` option itself.

The store package needs the ``store`` extra, so it is imported only when a
command runs: without the extra, ``flask https`` still works and these
commands say what to install.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..errors import EnforceHTTPSError
from .store_url import ENVIRONMENT_VARIABLE, store_url

if t.TYPE_CHECKING:
    from ..store import Revision, Store


class StoreCommandError(click.ClickException):
    """A store command failed: one ``Error:`` line, exit status 1."""


def open_store(url: str | None) -> Store:
    """The store named by ``url``, the app or the environment.

    :raises StoreCommandError: The ``store`` extra is not installed.
    """
    try:
        from ..store import Store
    except ImportError:
        raise StoreCommandError(
            "the settings store needs SQLAlchemy and psycopg: install"
            " flask-enforce-https[store] (pip install 'flask-enforce-https[store]')"
        ) from None
    return Store(store_url(url))


@contextmanager
def opened(url: str | None) -> Iterator[Store]:
    """Open the store; any store or settings error in the block is one
    line (the messages never hold the URL's password)."""
    try:
        with open_store(url) as store:
            yield store
    except EnforceHTTPSError as e:
        raise StoreCommandError(" ".join(str(e).split())) from None


URL = click.option(
    "--url",
    metavar="URL",
    help=f"The store: sqlite:///PATH/settings.db or"
    f" postgresql+psycopg://USER@HOST/DATABASE[?schema=NAME]. Default: the"
    f" app's store (--app), else {ENVIRONMENT_VARIABLE} when it holds a store"
    " URL. With --url the app is not loaded.",
)


def when(revision: Revision | None) -> str:
    """When ``revision`` was written, in UTC, for a person to read."""
    if revision is None:
        return ""
    return revision.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
