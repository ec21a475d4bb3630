"""``flask https store``: create, migrate, look at, export and import a
settings store.

An application may refuse to start until its store exists, and these are
the commands that make it exist: they name the store by ``--url``, else
load the named application without touching its store and take its URL,
else take the ``ENFORCE_HTTPS_SETTINGS`` environment variable (see
:mod:`.store_url`).

The store package needs the ``store`` extra, so it is imported only when a
command runs: without the extra, ``flask https`` still works and these
commands say what to install.
"""

from __future__ import annotations

import json
import tomllib
import typing as t
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import tomlkit

from ..edits import user_name
from ..errors import EnforceHTTPSError, SettingsError
from ..sources import FORMATS, parse_file, read_file
from .common import FORMAT, command, printable
from .store_url import ENVIRONMENT_VARIABLE, store_url

if t.TYPE_CHECKING:
    from ..store import Revision, Status, Store


class StoreCommandError(click.ClickException):
    """A store command failed: one ``Error:`` line, exit status 1."""


def _open_store(url: str | None) -> Store:
    try:
        from ..store import Store
    except ImportError:
        raise StoreCommandError(
            "the settings store needs SQLAlchemy and psycopg: install"
            " flask-enforce-https[store] (pip install 'flask-enforce-https[store]')"
        ) from None
    return Store(store_url(url))


@contextmanager
def _store(url: str | None) -> Iterator[Store]:
    """Open the store; any store or settings error in the block is one
    line (the messages never hold the URL's password)."""
    try:
        with _open_store(url) as store:
            yield store
    except EnforceHTTPSError as e:
        raise StoreCommandError(" ".join(str(e).split())) from None


_URL = click.option(
    "--url",
    metavar="URL",
    help=f"The store: sqlite:///PATH/settings.db or"
    f" postgresql+psycopg://USER@HOST/DATABASE[?schema=NAME]. Default: the"
    f" app's store (--app), else {ENVIRONMENT_VARIABLE} when it holds a store"
    " URL. With --url the app is not loaded.",
)


def _when(revision: Revision | None) -> str:
    if revision is None:
        return ""
    return revision.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")


@click.group("store")
def store_cli() -> None:
    """Create, migrate, look at, export and import a settings store.

    The store is --url, else the app's (loaded without touching its store),
    else the ENFORCE_HTTPS_SETTINGS environment variable.
    """


@command("init", with_appcontext=False)
@_URL
def init(url: str | None) -> None:
    """Create the store's tables (and its PostgreSQL schema), unless they
    exist."""
    with _store(url) as store:
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
@_URL
def upgrade(url: str | None) -> None:
    """Migrate the store's tables to the schema version of this
    flask-enforce-https."""
    with _store(url) as store:
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
        "head": None
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
@_URL
@FORMAT
def status(url: str | None, fmt: str) -> None:
    """Show the revision in force and which processes applied it."""
    with _store(url) as store:
        store.check()
        found = store.status()
    if fmt == "json":
        click.echo(json.dumps(_status_dict(store, found), indent=2))
        return
    click.echo(f"Store: {store.url}")
    head = found.head
    if head is None:
        click.echo("Revision: none yet (0); import a settings file to write one")
    else:
        why = f": {printable(head.reason)}" if head.reason else ""
        click.echo(
            f"Revision: {head.number}, {_when(head)}, by {printable(head.author)}"
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


def _ordered(document: dict[str, t.Any]) -> dict[str, t.Any]:
    # Stored with sorted keys; a file reads better environment first.
    first = (
        {"environment": document["environment"]} if "environment" in document else {}
    )
    return {**first, **{k: v for k, v in document.items() if k != "environment"}}


def _export_format(fmt: str | None, output: Path | None) -> str:
    if output is None:
        return fmt or "toml"
    suffix = output.suffix.lstrip(".")
    if f".{suffix}" not in FORMATS:
        raise click.UsageError(f"--output {output}: name a .toml or .json file")
    if fmt is not None and fmt != suffix:
        raise click.UsageError(
            f"--output {output} is a .{suffix} file; drop --format {fmt} or"
            f" name a .{fmt} file"
        )
    return suffix


@command("export", with_appcontext=False)
@_URL
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["toml", "json"]),
    help="Output format. Default: the --output file's extension, else toml.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this .toml or .json file instead of standard output.",
)
def export(url: str | None, fmt: str | None, output: Path | None) -> None:
    """Print the settings in force as a settings file."""
    fmt = _export_format(fmt, output)
    with _store(url) as store:
        store.check()
        head = store.head()
    if head is None:
        raise StoreCommandError(
            f"{store.url}: the store has no revision yet; nothing to export"
        )
    document = _ordered(head.document)
    if fmt == "json":
        text = json.dumps(document, indent=2) + "\n"
    else:
        heading = (
            f"Revision {head.number} of {store.url}, {_when(head)}, by"
            f" {printable(head.author)} ({head.origin})"
        )
        text = f"# {heading}\n\n{tomlkit.dumps(document)}"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise StoreCommandError(f"{output}: cannot write: {e.strerror}") from None
    click.echo(f"Revision {head.number} written to {output}", err=True)


def _read_document(path: Path) -> dict[str, t.Any]:
    """Read and validate a settings file; its errors name the file, key and
    line. Returns the document as written, to store as is."""
    if path.suffix not in FORMATS:
        raise click.UsageError(f"{path}: name a .toml or .json settings file")
    try:
        _, data = read_file(path)
        parse_file(path, data)
    except SettingsError as e:
        raise StoreCommandError(str(e)) from None
    text = data.decode("utf-8")
    # parse_file accepted it: the same parsers cannot fail on it now.
    if path.suffix == ".json":
        return t.cast("dict[str, t.Any]", json.loads(text))
    return tomllib.loads(text)


@command("import", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_URL
@click.option("--reason", help="Why; recorded with the revision.")
@click.option(
    "--expect",
    type=click.IntRange(min=0),
    metavar="REV",
    help="Write only if revision REV is the one in force (default: the one"
    " in force when the command reads it).",
)
def import_(
    file: Path, url: str | None, reason: str | None, expect: int | None
) -> None:
    """Validate a settings file and apply it as a new revision."""
    document = _read_document(file)
    with _store(url) as store:
        from ..store import ConflictError

        store.check()
        head = store.head()
        current = head.number if head else 0
        expected = current if expect is None else expect
        try:
            number = store.apply(document, expected, user_name(), "import", reason)
        except ConflictError as e:
            raise StoreCommandError(
                f"{store.url}: {e} See it with: flask https store export"
            ) from None
        if number == expected:
            click.echo(
                f"{store.url}: {file} holds the settings in force; nothing written"
            )
            return
        # What the store recorded, rather than a diff made here.
        for entry in store.history(since=number - 1):
            if entry.revision == number:
                click.echo(
                    f"{printable(entry.scope)}.{printable(entry.key)}:"
                    f" {json.dumps(entry.old)} -> {json.dumps(entry.new)}"
                )
    click.echo(f"{store.url}: revision {number} written (import of {file})")


for _command in (init, upgrade, status, export, import_):
    store_cli.add_command(_command)
