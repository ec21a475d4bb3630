"""``flask https history`` and ``revert``: the changes made to the settings,
and going back to a revision, for a settings file and a store alike."""

from __future__ import annotations

import json

import click

from ..errors import EnforceHTTPSError
from ..history import HistoryEntry, iso_time
from .admin import REASON, fail, report, writer
from .common import FORMAT, command, printable


def _line(entry: HistoryEntry) -> str:
    why = f"{entry.origin}: {entry.reason}" if entry.reason else entry.origin
    return (
        f"{iso_time(entry.time)}  {printable(entry.user)}  revision"
        f" {entry.revision}  {printable(entry.scope)}.{printable(entry.key)}:"
        f" {json.dumps(entry.old)} -> {json.dumps(entry.new)}  ({printable(why)})"
    )


@command("history")
@FORMAT
def history(fmt: str) -> None:
    """Print the changes made to the settings, one line per key: when, who,
    the revision, the key, its old and new values, and why."""
    target = writer()
    try:
        found = target.history()
    except (EnforceHTTPSError, OSError) as e:
        raise fail(target.where, e) from None
    for message in found.skipped:
        click.echo(message, err=True)
    if fmt == "json":
        click.echo(json.dumps([e.as_dict() for e in found.entries], indent=2))
        return
    for entry in found.entries:
        click.echo(_line(entry))


@command("revert")
@click.argument("revision", type=click.IntRange(min=1), metavar="REV")
@REASON
def revert(revision: int, reason: str | None) -> None:
    """Make the settings what they were right after revision REV (see
    'flask https history'), as a new revision."""
    target = writer()
    try:
        outcome = target.revert(revision, expected=None, reason=reason)
    except (EnforceHTTPSError, OSError) as e:
        raise fail(target.where, e) from None
    report(target, outcome)
