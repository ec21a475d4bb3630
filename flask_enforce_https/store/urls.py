"""Store URLs: which ones the settings store takes, and how they are shown.

Two kinds: ``sqlite:///path/settings.db`` (a file, for one host) and
``postgresql+psycopg://user@host/db`` (a farm; ``postgresql://`` means the
same). A PostgreSQL URL may name the schema that holds the tables in a
``schema`` query parameter, ``postgresql+psycopg://user@host/db?schema=ops``,
so that one string, such as ``ENFORCE_HTTPS_SETTINGS``, says everything.

A URL may hold a password. It is never shown: every message uses
:func:`hide_password`, which writes ``***`` in its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.exc

from .errors import StoreURLError

_SQLITE = ("sqlite", "sqlite+pysqlite")
_POSTGRESQL = ("postgresql", "postgresql+psycopg")
#: Lowercase, so that it needs no quoting in SQL nor in a GRANT.
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: ``scheme://user:password@``: what to hide in a URL that cannot be parsed.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)[^@]*(?=@)")
_EXAMPLES = "sqlite:///PATH/settings.db or postgresql+psycopg://USER@HOST/DATABASE"


def is_store_url(text: str) -> bool:
    """Tell whether a settings source names a store rather than a file.

    :param text: The value of ``ENFORCE_HTTPS_SETTINGS``, for instance.
    """
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in (*_SQLITE, *_POSTGRESQL)


def hide_password(url: str | sa.URL) -> str:
    """Write a URL with its password, if it has one, as ``***``.

    Also takes a string that is not a valid URL, so that even the message
    saying so shows no password.

    :param url: The URL.
    """
    if isinstance(url, sa.URL):
        return url.render_as_string(hide_password=True)
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return _USERINFO.sub(r"\g<head>***", url)


@dataclass(frozen=True)
class StoreURL:
    """A store URL, checked, and the PostgreSQL schema it names.

    :param url: What SQLAlchemy connects to (without ``schema``).
    :param schema: The PostgreSQL schema of the tables; ``None`` for the
        connection's default (``public``, usually) and for SQLite.
    """

    url: sa.URL
    schema: str | None = None

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.url.get_backend_name()

    def __str__(self) -> str:
        shown = hide_password(self.url)
        if self.schema is None:
            return shown
        return f"{shown}{'&' if '?' in shown else '?'}schema={self.schema}"

    def __repr__(self) -> str:
        return f"StoreURL({str(self)!r})"


def parse_url(text: str | StoreURL) -> StoreURL:
    """Check a store URL and split off its ``schema`` parameter.

    :param text: ``sqlite:///path/settings.db`` or
        ``postgresql+psycopg://user@host/db[?schema=NAME]``.
    :raises StoreURLError: It is not such a URL; the message shows it
        without its password.
    """
    if isinstance(text, StoreURL):
        return text
    try:
        url = sa.make_url(text)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise StoreURLError(
            f"{hide_password(text)}: not a URL; expected {_EXAMPLES}"
        ) from None
    shown = hide_password(url)
    if url.drivername in _SQLITE:
        return _sqlite(url, shown)
    if url.drivername in _POSTGRESQL:
        return _postgresql(url, shown)
    raise StoreURLError(f"{shown}: not a store URL; expected {_EXAMPLES}")


def _sqlite(url: sa.URL, shown: str) -> StoreURL:
    if (
        not url.database
        or url.database == ":memory:"
        or url.database.startswith("file:")
    ):
        raise StoreURLError(
            f"{shown}: a SQLite store is a file that every process of the"
            " application opens; name it, as in sqlite:///PATH/settings.db"
            " (sqlite:////PATH for an absolute path)"
        )
    if "schema" in url.query:
        raise StoreURLError(f"{shown}: only a PostgreSQL store has a schema")
    return StoreURL(url.set(drivername="sqlite"))


def _postgresql(url: sa.URL, shown: str) -> StoreURL:
    if not url.database:
        raise StoreURLError(f"{shown}: name the database, as in {_EXAMPLES}")
    schema = url.query.get("schema")
    if schema is None:
        return StoreURL(url.set(drivername="postgresql+psycopg"))
    if not isinstance(schema, str) or not _SCHEMA.fullmatch(schema):
        raise StoreURLError(
            f"{shown}: schema: expected one lowercase name of letters, digits"
            " and underscores, not starting with a digit, such as ?schema=ops"
        )
    return StoreURL(
        url.set(drivername="postgresql+psycopg").difference_update_query(["schema"]),
        schema,
    )
