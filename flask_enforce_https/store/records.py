"""What the store gives back: revisions, history entries (a
:class:`~flask_enforce_https.history.HistoryEntry`, shared with settings
files), process status.

Plain frozen dataclasses, with no tie to a database connection; times are
aware and in UTC.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass

from ..history import HistoryEntry as HistoryEntry  # its home is the core


@dataclass(frozen=True)
class Revision:
    """One revision of the settings: the whole document, and who wrote it.

    :param number: The revision's number, from 1.
    :param document: The settings document, as validated when written.
    :param author: Who wrote it.
    :param origin: ``"cli"``, ``"console"``, ``"import"`` or ``"revert"``.
    :param reason: Why, as the author said; ``None`` when not said.
    :param created_at: When it was written.
    """

    number: int
    document: dict[str, t.Any]
    author: str
    origin: str
    reason: str | None
    created_at: datetime.datetime


@dataclass(frozen=True)
class ProcessStatus:
    """What one process last said it applied.

    :param host: Its host name.
    :param pid: Its process id.
    :param application: The application's name.
    :param revision: The revision it applied (0: none).
    :param seen_at: When it said so.
    """

    host: str
    pid: int
    application: str
    revision: int
    seen_at: datetime.datetime


@dataclass(frozen=True)
class Status:
    """The revision in force, and where each live process stands.

    :param head: The revision in force; ``None`` before the first, or
        when the head is a bad one.
    :param processes: The processes seen recently, by host, application
        and pid.
    :param bad_head: The head's number when it names a revision that is
        missing, not a JSON document or not valid settings (changed by
        hand); else 0.
    :param problem: What is wrong with that head.
    """

    head: Revision | None
    processes: list[ProcessStatus]
    bad_head: int = 0
    problem: str | None = None

    @property
    def behind(self) -> list[ProcessStatus]:
        """The processes that have not applied the revision in force."""
        number = self.head.number if self.head else self.bad_head
        return [p for p in self.processes if p.revision != number]
