"""What a settings file's audit log says about the file: which revisions
came after the version a writer read, and how to go back to a revision.

Each line ``flask https set`` writes records ``version``, the file's
version (:func:`~flask_enforce_https.edits.version_of`) as its revision
left it, so a writer that read the file at that version can be told which
revisions came since, and whether the file was also edited by hand.
"""

from __future__ import annotations

import json
import shlex
import typing as t
from pathlib import Path

from . import audit
from .errors import ConflictError, RevisionError
from .history import HistoryEntry, from_log
from .layout import Values, section


def undo(
    path: Path,
    audit_log: Path,
    document: dict[str, t.Any],
    entries: list[HistoryEntry],
    revision: int,
) -> Values:
    """The values that bring a settings file back to what it was right
    after ``revision``: for each key a later revision changed, its value
    before the first of them.

    :param path: The file, for messages.
    :param audit_log: Its log, for messages.
    :param document: The file's settings now.
    :param entries: The log's entries.
    :param revision: The revision to go back to.
    :raises RevisionError: The log has no such revision, or a key's value
        in the file is not the one the log last gave it.
    """
    numbers = sorted({e.revision for e in entries})
    if revision not in numbers:
        known = (
            f"revisions are {numbers[0]} to {numbers[-1]}"
            if numbers
            else "the audit log has no revision"
        )
        raise RevisionError(f"{audit_log}: no revision {revision}: {known}")
    later = [e for e in entries if e.revision > revision]
    last: dict[tuple[str, str], HistoryEntry] = {}
    for entry in later:
        last[entry.scope, entry.key] = entry
    for (scope, key), entry in last.items():
        now = section(document, scope).get(key)
        if now != entry.new:
            raise RevisionError(
                f"{path}: cannot revert to revision {revision}:"
                f" {scope}.{key} is {json.dumps(now)}, but the audit log"
                f" says revision {entry.revision} made it"
                f" {json.dumps(entry.new)}: the file was edited by hand."
                f" Give it that value again{_how(scope, key, entry.new)}"
                " and revert, or edit the file by hand"
            )
    first: dict[tuple[str, str], object] = {}
    for entry in reversed(later):
        first[entry.scope, entry.key] = entry.old
    # In the order a store lists changes: the environment, then
    # applications by name, keys sorted.
    wanted: Values = {}
    for scope, key in sorted(first, key=lambda k: (k[0] != "environment", k)):
        wanted.setdefault(scope, {})[key] = first[scope, key]
    return wanted


def _short(version: str) -> str:
    return version[: len("sha256:") + 12]


def _how(scope: str, key: str, value: object) -> str:
    if value is None:
        command = f"unset {key}"
    else:
        command = f"set {key}={shlex.quote(json.dumps(value))}"
    if scope != "environment":
        command += f" --application {shlex.quote(scope)}"
    return f" (flask https {command})"


def conflict(expected: str, version: str, lines: audit.History) -> ConflictError:
    """The error for a file found at ``version`` by a writer that read it
    at ``expected``, naming the logged revisions made since, and saying
    whether the file was also edited by hand.

    :param expected: The version the writer read.
    :param version: The file's version now.
    :param lines: The audit log.
    """
    numbered = dict(lines.lines)
    entries = from_log(lines.lines)[0]
    written: dict[int, tuple[object, object]] = {}
    for n, entry in entries:
        line = numbered[n]
        written.setdefault(
            entry.revision,
            (line.get("version_before"), line["version"])
            if "version" in line
            else (None, None),
        )
    first = None
    for number in sorted(written):
        before, after = written[number]
        if after == expected:
            first = number + 1
        elif before == expected:
            first = number
    if first is None:
        # The version read is none the log knows: a hand edit, or a log
        # from before versions were recorded.
        last = entries[-1][1] if entries else None
        what = "the file changed" + (
            f" (the last revision logged is {last.revision} by {last.user})"
            if last
            else ""
        )
        since: list[HistoryEntry] = []
    else:
        since = [e for _, e in entries if e.revision >= first]
        parts, by_hand, was = [], False, expected
        for number in sorted({e.revision for e in since}):
            before, after = written[number]
            by_hand = by_hand or before != was
            was = t.cast(str, after)
            user = next(e.user for e in since if e.revision == number)
            parts.append(f"revision {number} by {user}")
        if by_hand or version != was:
            parts.append("an edit by hand")
        what = f"{', '.join(parts)} came first"
    return ConflictError(
        f"the settings changed since version {_short(expected)}: {what};"
        " nothing was written. Review the settings now (version"
        f" {_short(version)}) and apply your change again.",
        expected_version=expected,
        current_version=version,
        author=since[-1].user if since else None,
        changes=since,
    )
