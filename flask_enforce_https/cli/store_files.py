"""``flask https store export`` and ``import``: the settings in force as a
settings file, and a settings file as a new revision."""

from __future__ import annotations

import json
import tomllib
import typing as t
from pathlib import Path

import click
import tomlkit

from ..edits import user_name
from ..errors import SettingsError
from ..sources import FORMATS, parse_file, read_file
from .common import command, printable
from .store_common import URL, StoreCommandError, opened, when


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
@URL
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
    with opened(url) as store:
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
            f"Revision {head.number} of {store.url}, {when(head)}, by"
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
@URL
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
    with opened(url) as store:
        from ..store import ConflictError

        store.check()
        # The number only: a head changed by hand into a bad one is what an
        # import mends.
        current = store.head_number()
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
