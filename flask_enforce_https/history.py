"""The history of the settings, key by key, as every writer gives it back.

A settings store keeps its history in its audit table; a settings file in
its JSON-lines audit log (:mod:`~flask_enforce_https.audit`). Both read as
:class:`HistoryEntry` objects, one per key a revision changed.

Revisions in a file's log
-------------------------

Each line ``flask https set``, ``unset`` or ``revert`` writes carries the
number of the revision it belongs to: one per command that changed
something, 1, 2, 3... Logs written before revisions were numbered have
lines without one. Such a line belongs to the revision of the line before
it when that line also had no number and has the same ``time`` and
``user`` (one command wrote them together); otherwise it starts the next
revision. A numbered line keeps its number, and the next revision is one
more than the highest number read.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass


def iso_time(time: datetime.datetime) -> str:
    """Write an aware time as the audit records do: ISO 8601, whole
    seconds, ``Z`` for UTC."""
    return time.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class HistoryEntry:
    """One key one revision changed.

    :param time: When the revision was written.
    :param user: Its author.
    :param scope: ``"environment"`` or an application's name.
    :param key: The setting.
    :param old: Its value before; ``None`` when it was unset.
    :param new: Its value after; ``None`` when it is now unset.
    :param revision: The revision.
    :param origin: The revision's origin: ``"cli"``, ``"console"``,
        ``"import"`` or ``"revert"``.
    :param reason: The revision's reason.
    """

    time: datetime.datetime
    user: str
    scope: str
    key: str
    old: object
    new: object
    revision: int
    origin: str
    reason: str | None

    def as_dict(self) -> dict[str, t.Any]:
        """The entry as JSON would carry it: the keys of a file's audit log
        (``time``, ``user``, ``scope``, ``key``, ``old``, ``new``) and
        ``revision``, ``origin``, ``reason``."""
        return {
            "time": iso_time(self.time),
            "user": self.user,
            "scope": self.scope,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "revision": self.revision,
            "origin": self.origin,
            "reason": self.reason,
        }


def _time(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        time = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if time.tzinfo is None:
        time = time.replace(tzinfo=datetime.timezone.utc)
    return time.astimezone(datetime.timezone.utc)


def _problem(line: dict[str, t.Any]) -> str | None:
    if _time(line.get("time")) is None:
        return "no valid time"
    for field in ("user", "scope", "key"):
        if not isinstance(line.get(field), str):
            return f"no valid {field}"
    revision = line.get("revision")
    if revision is not None and (
        not isinstance(revision, int) or isinstance(revision, bool) or revision < 1
    ):
        return "no valid revision"
    return None


def from_log(
    lines: list[tuple[int, dict[str, t.Any]]],
) -> tuple[list[tuple[int, HistoryEntry]], list[tuple[int, str]]]:
    """Turn the lines of a file's audit log into entries, numbering those
    without a revision as the module says.

    :param lines: ``(line number, JSON object)`` for each line, in order.
    :returns: ``(line number, entry)`` for each entry, and ``(line number,
        why)`` for each line left out.
    """
    entries: list[tuple[int, HistoryEntry]] = []
    skipped: list[tuple[int, str]] = []
    highest = 0
    group: tuple[object, object] | None = None
    for number, line in lines:
        problem = _problem(line)
        if problem is not None:
            skipped.append((number, f"not an audit entry ({problem})"))
            continue
        revision = line.get("revision")
        if isinstance(revision, int):
            group = None
        else:
            same = (line.get("time"), line.get("user"))
            if group != same:
                highest += 1
            group = same
            revision = highest
        highest = max(highest, revision)
        reason = line.get("reason")
        origin = line.get("origin")
        entry = HistoryEntry(
            time=t.cast(datetime.datetime, _time(line["time"])),
            user=line["user"],
            scope=line["scope"],
            key=line["key"],
            old=line.get("old"),
            new=line.get("new"),
            revision=revision,
            origin=origin if isinstance(origin, str) else "cli",
            reason=reason if isinstance(reason, str) else None,
        )
        entries.append((number, entry))
    return entries, skipped


def next_revision(entries: list[tuple[int, HistoryEntry]]) -> int:
    """The number of the next revision: one more than the highest."""
    return max((e.revision for _, e in entries), default=0) + 1
