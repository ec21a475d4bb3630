"""The table of ``flask https show``, sized to its content and the terminal.

Like Flask's ``routes``, columns are as wide as their longest value, so no
endpoint or rule is ever cut; when the table would pass the terminal's
width, the methods wrap onto more lines instead.
"""

from __future__ import annotations

import os
import sys
import typing as t

from .common import WIDTH

HEADINGS = ("ENDPOINT", "RULE", "METHODS", "KIND", "DESIGN", "EFFECTIVE", "EXEMPT")
_METHODS = HEADINGS.index("METHODS")


def terminal_width() -> int:
    """Return the width to fit: ``COLUMNS``, else the terminal's, else
    :data:`~flask_enforce_https.cli.common.WIDTH` when the output is not a
    terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isascii() and columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):  # no real file behind stdout
        pass
    return WIDTH


def _wrap_methods(methods: list[str], width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for index, method in enumerate(methods):
        joined = f"{line},{method}" if line else method
        # Room for the comma that ends a line when the next method wraps.
        comma = int(index < len(methods) - 1)
        if line and len(joined) + comma > width:
            lines.append(line + ",")
            line = method
        else:
            line = joined
    return [*lines, line]


def table(
    rows: t.Sequence[dict[str, t.Any]], width: int
) -> tuple[str, list[list[str]]]:
    """Return the heading line of the table of ``rows``, and the lines of
    each row (more than one when its methods wrap); reasons are left out.

    :param rows: As :func:`~flask_enforce_https.report.endpoint_rows` gives.
    :param width: The width to fit, where the methods can be wrapped.
    """
    cells = [
        [
            row["endpoint"],
            row["rule"],
            ",".join(row["methods"]),
            row["kind"],
            row["design"],
            row["effective"],
            "yes" if row["exempt"] else "-",
        ]
        for row in rows
    ]
    widths = [
        max(len(heading), *(len(cell[i]) for cell in cells))
        for i, heading in enumerate(HEADINGS)
    ]
    rest = sum(widths) - widths[_METHODS] + len(HEADINGS) - 1
    longest = max((len(m) for row in rows for m in row["methods"]), default=0)
    widths[_METHODS] = max(
        min(widths[_METHODS], width - rest), len("METHODS"), longest + 1
    )

    def line(values: t.Sequence[str]) -> str:
        padded = (value.ljust(size) for value, size in zip(values, widths, strict=True))
        return " ".join(padded).rstrip()

    groups = []
    for cell, row in zip(cells, rows, strict=True):
        first, *more = _wrap_methods(row["methods"], widths[_METHODS])
        lines = [line([*cell[:_METHODS], first, *cell[_METHODS + 1 :]])]
        blank = [""] * len(HEADINGS)
        lines += [line([*blank[:_METHODS], m, *blank[_METHODS + 1 :]]) for m in more]
        groups.append(lines)
    return line(HEADINGS), groups
