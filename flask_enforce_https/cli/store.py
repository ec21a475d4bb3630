"""``flask https store``: create, migrate, look at, export and import a
settings store.

An application may refuse to start until its store exists, and these are
the commands that make it exist: they name the store by ``--url``, else
load the named application without touching its store and take its URL,
else take the ``ENFORCE_HTTPS_SETTINGS`` environment variable (see
:mod:`.store_url`).
"""

from __future__ import annotations

import json
import typing as t

import click

from .common import FORMAT, command, printable
from .store_common import URL, opened, when
from .store_files import export, import_

if t.TYPE_CHECKING:
    from ..store import Status, Store


@click.group("store")
def store_cli() -> None:
    """Create, migrate, look at, export and import a settings store.

    The store is --url, else the app's (loaded without touching its store),
    else the ENFORCE_HTTPS_SETTINGS environment variable.
    """


@command("init", with_appcontext=False)
@URL
def init(url: str | None) -> None:
    """Create the store's tables (and its PostgreSQL schema), unless they
    exist."""
    with opened(url) as store:
        from ..store import SCHEMA_VERSION

        created = store.init()
        if created:
            click.echo(
                f"{store.url}: created the store (schema version {SCHEMA_VERSION})"
            )
        else:
            click.echo(
                f"{store.url}: the store exists (schema version"
                f" {SCHEMA_VERSION}); nothing changed"
            )


@command("upgrade", with_appcontext=False)
@URL
def upgrade(url: str | None) -> None:
    """Migrate the store's tables to the schema version of this
    flask-enforce-https."""
    with opened(url) as store:
        from ..store import SCHEMA_VERSION

        reached = store.upgrade()
        if reached:
            click.echo(
                f"{store.url}: migrated from schema version {reached[0] - 1}"
                f" to {reached[-1]}"
            )
        else:
            click.echo(
                f"{store.url}: schema version {SCHEMA_VERSION} is current;"
                " nothing to migrate"
            )


def _status_dict(store: Store, status: Status) -> dict[str, t.Any]:
    from ..store import SCHEMA_VERSION

    head = status.head
    behind = set(status.behind)
    return {
        "store": str(store.url),
        "schema_version": SCHEMA_VERSION,
        "head": {"revision": status.bad_head, "problem": status.problem}
        if status.problem is not None
        else None
        if head is None
        else {
            "revision": head.number,
            "author": head.author,
            "origin": head.origin,
            "reason": head.reason,
            "time": head.created_at.isoformat(timespec="seconds").replace(
                "+00:00", "Z"
            ),
        },
        "processes": [
            {
                "host": p.host,
                "pid": p.pid,
                "application": p.application,
                "revision": p.revision,
                "seen_at": p.seen_at.isoformat(timespec="seconds").replace(
                    "+00:00", "Z"
                ),
                "behind": p in behind,
            }
            for p in status.processes
        ],
    }


@command("status", with_appcontext=False)
@URL
@FORMAT
def status(url: str | None, fmt: str) -> None:
    """Show the revision in force and which processes applied it."""
    with opened(url) as store:
        store.check()
        found = store.status()
    if fmt == "json":
        click.echo(json.dumps(_status_dict(store, found), indent=2))
        return
    click.echo(f"Store: {store.url}")
    head = found.head
    if found.problem is not None:
        click.echo(
            f"Revision: {found.bad_head}, not valid: {found.problem}. Processes"
            " keep the newest valid revision under it; write a good one (store"
            " import, set or revert)"
        )
    elif head is None:
        click.echo("Revision: none yet (0); import a settings file to write one")
    else:
        why = f": {printable(head.reason)}" if head.reason else ""
        click.echo(
            f"Revision: {head.number}, {when(head)}, by {printable(head.author)}"
            f" ({head.origin}){why}"
        )
    behind = set(found.behind)
    if not found.processes:
        from ..store import EXPIRE_AFTER

        seconds = EXPIRE_AFTER.total_seconds()
        click.echo(f"Processes: none seen in the last {seconds:g} seconds")
        return
    click.echo(f"Processes: {len(found.processes)}, {len(behind)} behind")
    rows = [("HOST", "PID", "APPLICATION", "REVISION", "SEEN", "")]
    for p in found.processes:
        seen = p.seen_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        lag = "behind" if p in behind else "up to date"
        rows.append(
            (
                printable(p.host),
                str(p.pid),
                printable(p.application),
                str(p.revision),
                seen,
                lag,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )


for _command in (init, upgrade, status, export, import_):
    store_cli.add_command(_command)
