"""The store's tables, their schema version, and the steps between versions.

Every table's name starts with ``enforce_https_``, so that they sit beside an
application's own tables. On PostgreSQL they may live in a schema of their
own (see :class:`~flask_enforce_https.store.urls.StoreURL`): tables are
declared without one and placed by SQLAlchemy's ``schema_translate_map``.

Nothing here runs by itself: :func:`init` and :func:`upgrade` are what
``flask https store init`` and ``upgrade`` call, and :func:`check` is what an
application calls before it trusts the tables.
"""

from __future__ import annotations

import datetime
import typing as t
from collections.abc import Callable, Mapping

import sqlalchemy as sa

from .errors import SchemaError

#: The version of the tables below. Raise it with a step in :data:`STEPS`.
SCHEMA_VERSION = 1
#: Where a revision can come from.
ORIGINS = ("cli", "console", "import", "revert")

#: Migrates a schema from one version to the next, inside the transaction
#: of :func:`upgrade`: ``step(connection, schema)``, where ``schema`` is the
#: PostgreSQL schema of the tables (``None``: the default one).
Step = Callable[[sa.Connection, "str | None"], None]

#: The step from each version to the next: ``STEPS[1]`` would migrate
#: version 1 to 2. Version 1 is the first, so there is none yet.
STEPS: Mapping[int, Step] = {}


class UTCDateTime(sa.TypeDecorator[datetime.datetime]):
    """A time in UTC, aware on the way in and out, on SQLite too (which
    keeps no time zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: sa.Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"expected an aware datetime, got {value!r}")
        value = value.astimezone(datetime.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime.datetime | None, dialect: sa.Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc)
        return value.astimezone(datetime.timezone.utc)


metadata = sa.MetaData(
    naming_convention={
        "ix": "%(table_name)s_%(column_0_name)s_idx",
        "ck": "%(table_name)s_%(constraint_name)s_check",
        "fk": "%(table_name)s_%(column_0_name)s_fkey",
        "pk": "%(table_name)s_pkey",
    }
)

#: Name/value pairs about the tables themselves; ``schema_version`` is
#: written last by :func:`init`, so its presence means the tables are whole.
meta = sa.Table(
    "enforce_https_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: Append-only: one row per revision, the whole validated settings document.
revisions = sa.Table(
    "enforce_https_revisions",
    metadata,
    # Numbered by the writer (head + 1) under the head's compare-and-swap:
    # no sequence, no gaps, nothing for a role to be granted but INSERT.
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("revision >= 1", name="revision"),
    sa.CheckConstraint(
        "origin IN (" + ", ".join(f"'{o}'" for o in ORIGINS) + ")", name="origin"
    ),
)

#: One row: the revision in force (0 before the first).
head = sa.Table(
    "enforce_https_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("id = 1", name="one_row"),
    sa.CheckConstraint("revision >= 0", name="revision"),
)

#: Append-only: one row per key a revision changed; values as JSON text,
#: NULL where the key was (or is now) unset.
audit = sa.Table(
    "enforce_https_audit",
    metadata,
    sa.Column(
        "revision",
        sa.Integer,
        sa.ForeignKey(revisions.c.revision),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("old", sa.Text, nullable=True),
    sa.Column("new", sa.Text, nullable=True),
)

#: One row per process, upserted: the revision it applied and when.
heartbeats = sa.Table(
    "enforce_https_heartbeats",
    metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("pid", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("application", sa.Text, primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False, index=True),
)

_VERSION_KEY = "schema_version"


def schema_version(connection: sa.Connection, schema: str | None) -> int | None:
    """Return the version of the tables, or ``None`` when there are none
    (or :func:`init` did not finish).

    :param connection: A connection to the store.
    :param schema: The PostgreSQL schema of the tables.
    :raises SchemaError: The version recorded is not a number.
    """
    if not sa.inspect(connection).has_table(meta.name, schema=schema):
        return None
    value = connection.scalar(
        sa.select(meta.c.value).where(meta.c.name == _VERSION_KEY)
    )
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SchemaError(
            f"{meta.name} holds schema_version {value!r}, not a number:"
            " the table was changed by hand"
        ) from None


def check(
    connection: sa.Connection,
    schema: str | None,
    where: str,
    version: int = SCHEMA_VERSION,
) -> None:
    """Make sure the tables exist and are at ``version``.

    :param connection: A connection to the store.
    :param schema: The PostgreSQL schema of the tables.
    :param where: The store, for messages (its URL, password hidden).
    :param version: The version the code knows.
    :raises SchemaError: They are missing, older or newer; the message says
        which command to run.
    """
    _require(schema_version(connection, schema), where, version)


def _require(found: int | None, where: str, version: int) -> None:
    if found is None:
        raise SchemaError(
            f"{where}: no settings store here (its tables are missing);"
            " create them with: flask https store init"
        )
    if found < version:
        raise SchemaError(
            f"{where}: the store's schema is version {found}, older than"
            f" version {version} that this flask-enforce-https uses;"
            " migrate it with: flask https store upgrade"
        )
    if found > version:
        raise SchemaError(
            f"{where}: the store's schema is version {found}, newer than"
            f" version {version} that this flask-enforce-https knows;"
            " upgrade flask-enforce-https here"
        )


def init(
    connection: sa.Connection,
    schema: str | None,
    where: str,
    now: datetime.datetime,
) -> bool:
    """Create the tables, unless they exist. Idempotent.

    :param connection: A connection to the store, in a transaction.
    :param schema: The PostgreSQL schema of the tables, created if missing.
    :param where: The store, for messages.
    :param now: The time to record in the head.
    :returns: Whether anything was created.
    :raises SchemaError: Tables exist at another version.
    """
    if schema is not None and not sa.inspect(connection).has_schema(schema):
        # The name is checked to be a plain lowercase identifier. Only when
        # missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database.
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    found = schema_version(connection, schema)
    if found is not None:
        _require(found, where, SCHEMA_VERSION)
        return False
    # checkfirst: a SQLite init cut short (its DDL is not transactional)
    # is finished by the next one.
    metadata.create_all(connection, checkfirst=True)
    if connection.scalar(sa.select(head.c.revision)) is None:
        connection.execute(head.insert().values(id=1, revision=0, updated_at=now))
    connection.execute(
        meta.insert().values(name=_VERSION_KEY, value=str(SCHEMA_VERSION))
    )
    return True


def upgrade(
    connection: sa.Connection,
    schema: str | None,
    where: str,
    steps: Mapping[int, Step] = STEPS,
    version: int = SCHEMA_VERSION,
) -> list[int]:
    """Migrate the tables to ``version``, one step at a time.

    :param connection: A connection to the store, in a transaction.
    :param schema: The PostgreSQL schema of the tables.
    :param where: The store, for messages.
    :param steps: The step from each version to the next.
    :param version: The version to reach.
    :returns: The versions reached, in order; empty when already there.
    :raises SchemaError: There are no tables, they are newer, or a step is
        missing.
    """
    found = schema_version(connection, schema)
    if found is None or found > version:
        _require(found, where, version)
    reached: list[int] = []
    current = t.cast(int, found)
    while current < version:
        step = steps.get(current)
        if step is None:
            raise SchemaError(
                f"{where}: no migration from schema version {current}; upgrade"
                " flask-enforce-https, or migrate with the release that made it"
            )
        step(connection, schema)
        current += 1
        connection.execute(
            meta.update().where(meta.c.name == _VERSION_KEY).values(value=str(current))
        )
        reached.append(current)
    return reached
