"""Heartbeats: each process's last word on the revision it applied.

One row per (host, pid, application), written by an upsert (``INSERT ... ON
CONFLICT DO UPDATE``, on SQLite and PostgreSQL alike), so a process adds one
row in its life however often it beats. Rows of processes not seen for
:data:`EXPIRE_AFTER` drop out of the status; rows older than
:data:`PRUNE_AFTER` are deleted by the next heartbeat of any process, so the
table stays as small as the farm.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .records import ProcessStatus
from .schema import heartbeats

#: How often a process is meant to beat, in seconds.
HEARTBEAT_PERIOD = 30.0
#: A process not seen for this long (several periods) is left out of the
#: status.
EXPIRE_AFTER = datetime.timedelta(seconds=3 * HEARTBEAT_PERIOD)
#: A process not seen for this long is deleted.
PRUNE_AFTER = datetime.timedelta(days=1)


def beat(
    connection: sa.Connection,
    host: str,
    pid: int,
    application: str,
    revision: int,
    now: datetime.datetime,
) -> None:
    """Record that a process has applied a revision, and delete the rows of
    processes long gone.

    :param connection: A connection to the store, in a transaction.
    :param host: The process's host name.
    :param pid: Its process id.
    :param application: The application's name.
    :param revision: The revision it applied (0: none).
    :param now: The time to record.
    """
    insert = (
        postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    )
    statement = insert(heartbeats).values(
        host=host, pid=pid, application=application, revision=revision, seen_at=now
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[
                heartbeats.c.host,
                heartbeats.c.pid,
                heartbeats.c.application,
            ],
            set_={
                "revision": statement.excluded.revision,
                "seen_at": statement.excluded.seen_at,
            },
        )
    )
    connection.execute(
        heartbeats.delete().where(heartbeats.c.seen_at < now - PRUNE_AFTER)
    )


def seen_since(
    connection: sa.Connection, since: datetime.datetime
) -> list[ProcessStatus]:
    """The processes seen at or after ``since``, by host, application, pid.

    :param connection: A connection to the store.
    :param since: The oldest heartbeat to include.
    """
    rows = connection.execute(
        sa.select(heartbeats)
        .where(heartbeats.c.seen_at >= since)
        .order_by(heartbeats.c.host, heartbeats.c.application, heartbeats.c.pid)
    )
    return [
        ProcessStatus(r.host, r.pid, r.application, r.revision, r.seen_at) for r in rows
    ]
