"""Connecting to a store, and turning database errors into ours.

A database error's text may hold the URL, and with it the password; the
errors raised here name the store by its URL with the password hidden, and
strip the password from the driver's own message too.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Iterator

import sqlalchemy as sa
import sqlalchemy.exc

from .errors import SchemaError, StoreError
from .urls import StoreURL

#: Seconds to wait for a connection, or for SQLite's write lock.
CONNECT_TIMEOUT = 5.0


#: libpq's TCP keepalives, so that a connection whose peer vanished without
#: a word (a cut network) fails in seconds rather than hangs for minutes.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}


def create_engine(url: StoreURL, timeout: float = CONNECT_TIMEOUT) -> sa.Engine:
    """Make the engine for a store; it connects only when first used.

    :param url: The store.
    :param timeout: Seconds to wait for a connection (PostgreSQL, at least
        2: libpq's floor) or for SQLite's write lock.
    :raises StoreError: The driver is not installed.
    """
    try:
        if url.dialect == "sqlite":
            path = urllib.parse.quote(os.path.abspath(str(url.url.database)))
            engine = sa.create_engine(
                # Opened read-write, never created: a store file renamed
                # away must not come back empty (init creates the file).
                url.url.set(
                    database=f"file:{path}", query={"mode": "rw", "uri": "true"}
                ),
                connect_args={"timeout": timeout},
                # A connection per use, which costs little on SQLite, so
                # that a file replaced (restored from a backup) is the one
                # read, not the inode a pooled connection still holds.
                poolclass=sa.pool.NullPool,
            )
        else:
            engine = sa.create_engine(
                url.url,
                connect_args={
                    "connect_timeout": max(2, round(timeout)),
                    # No server-side prepared statements: PgBouncer in
                    # transaction mode (before 1.21) cannot keep them.
                    "prepare_threshold": None,
                    **KEEPALIVES,
                },
                # A farm's connections outlive database restarts.
                pool_pre_ping=True,
            )
    except ImportError as e:
        raise StoreError(
            f"{url}: the driver is not installed ({e.name}); install the store"
            " extra: pip install 'flask-enforce-https[store]'"
        ) from None
    if url.schema is not None:
        engine = engine.execution_options(schema_translate_map={None: url.schema})
    return engine


def create_sqlite_file(url: StoreURL) -> None:
    """Create a SQLite store's file, empty, unless it exists.

    :param url: The store.
    :raises StoreError: It cannot be created.
    """
    path = str(url.url.database)
    try:
        with open(path, "ab"):
            pass
    except OSError as e:
        raise StoreError(f"{url}: cannot create the file: {e.strerror}") from None


def describe(error: sa.exc.SQLAlchemyError, url: StoreURL) -> str:
    """The database's own words for an error, on one line, without the
    password.

    :param error: What SQLAlchemy raised.
    :param url: The store.
    """
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    text = " ".join(str(cause).split()) or type(cause).__name__
    password = url.url.password
    if password:
        text = text.replace(str(password), "***")
    return text


@contextlib.contextmanager
def store_errors(url: StoreURL) -> Iterator[None]:
    """Raise a :class:`StoreError` for any database error in the block.

    The database's exception is not chained (it may carry the URL): its
    words are in the message.

    :param url: The store.
    """
    try:
        yield
    except sa.exc.SQLAlchemyError as e:
        raise StoreError(f"{url}: {describe(e, url)}") from None


def require_sqlite_file(url: StoreURL) -> None:
    """Refuse a SQLite store whose file is missing, which connecting would
    create, empty.

    :param url: The store.
    :raises SchemaError: The file is missing.
    """
    if url.dialect == "sqlite" and not os.path.exists(str(url.url.database)):
        raise SchemaError(
            f"{url}: no settings store here (the file is missing); create it"
            " with: flask https store init"
        )
