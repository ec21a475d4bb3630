"""Findings of ``flask https check``: one thing found, with a stable id."""

from __future__ import annotations

import typing as t
from dataclasses import asdict, dataclass

Severity = t.Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One thing ``flask https check`` found.

    :param id: A stable identifier, documented with its fix.
    :param severity: ``"error"`` (exit 1), ``"warning"`` or ``"info"``.
    :param message: What was found, naming the file, host or key.
    :param hint: What to do about it.
    """

    id: str
    severity: Severity
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        """Return the finding as JSON-ready data."""
        return asdict(self)
