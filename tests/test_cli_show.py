"""``flask https show`` fits the terminal without cutting names.

Columns are as wide as their longest value, like Flask's ``routes``; when
the table would pass the terminal's width (``COLUMNS``, else 100 when the
output is not a terminal) the methods wrap onto more lines. Endpoints and
rules are never cut.
"""

from __future__ import annotations

import pytest
from click.testing import Result
from conftest import create_app, https
from flask import Blueprint, Flask

LONG_ENDPOINT = "administration_reports.monthly_revenue_by_customer"
LONG_RULE = "/administration/reports/by-customer-and-month/<int:year>/<int:month>"


def show(app: Flask, columns: int | None = None) -> Result:
    env = {"COLUMNS": str(columns) if columns else ""}
    result = app.test_cli_runner().invoke(args=["https", "show"], env=env)
    assert result.exit_code == 0, result.output
    return result


def table_lines(result: Result) -> list[str]:
    """The table: after the header's blank line, without the reasons."""
    body = result.output.partition("\n\n")[2]
    return [line for line in body.splitlines() if not line.startswith("    why:")]


@pytest.fixture
def long_app() -> Flask:
    app = Flask("shop")
    reports = Blueprint(
        "administration_reports", __name__, url_prefix="/administration/reports"
    )

    @reports.route(
        "/by-customer-and-month/<int:year>/<int:month>",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    )
    @https.screen("tls")
    def monthly_revenue_by_customer(year: int, month: int) -> str:
        return "report"

    app.register_blueprint(reports)
    app.config["ENFORCE_HTTPS_SETTINGS"] = {}
    https.init_app(app)
    return app


@pytest.mark.parametrize("columns", [pytest.param(None, id="not-a-terminal"), 60, 300])
def test_long_names_are_never_cut(long_app: Flask, columns: int | None) -> None:
    result = show(long_app, columns)
    assert "…" not in result.output
    [row] = [line for line in table_lines(result) if line.startswith(LONG_ENDPOINT)]
    assert f"{LONG_ENDPOINT} {LONG_RULE} " in row


def test_methods_wrap_to_fit(long_app: Flask) -> None:
    lines = table_lines(show(long_app, 100))
    heading, first, *more = lines[:6]
    column = heading.index("METHODS")
    methods = [first[column:].split()[0], *(line.strip() for line in more)]
    assert "".join(methods) == "DELETE,GET,PATCH,POST,PUT"
    assert all(line[:column].strip() == "" for line in more)


@pytest.mark.parametrize("columns", [None, 100])
def test_the_example_app_fits(columns: int | None) -> None:
    app = create_app({"environment": {"hsts": True}})
    result = show(app, columns)
    for line in result.output.splitlines():
        assert len(line) <= (columns or 100), line
    lines = table_lines(result)
    assert lines[0].split() == [
        "ENDPOINT",
        "RULE",
        "METHODS",
        "KIND",
        "DESIGN",
        "EFFECTIVE",
        "EXEMPT",
    ]
    kind = lines[0].index("KIND")
    rows = [line for line in lines[1:] if line[0] != " "]
    assert len(rows) == len(list(app.url_map.iter_rules()))
    for row in rows:
        assert row[kind:].split()[0] in ("screen", "rest", "soap"), row
    endpoints = {row.split()[0] for row in rows}
    assert endpoints == {rule.endpoint for rule in app.url_map.iter_rules()}


def test_a_wide_terminal_has_one_line_per_rule() -> None:
    app = create_app({})
    lines = table_lines(show(app, 300))
    assert len(lines) == 1 + len(list(app.url_map.iter_rules()))
    [secure] = [line for line in lines if line.startswith("secure ")]
    assert " DELETE,GET,PATCH,POST,PUT " in secure
