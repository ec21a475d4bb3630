"""``flask https show`` and ``flask https explain``."""

from __future__ import annotations

import json
import textwrap
import typing as t

import click

from ..errors import SettingsError
from ..report import BadURL, endpoint_rows, explanation
from .common import (
    FORMAT,
    InputError,
    app_state,
    command,
    is_file,
    is_store,
    the_app,
    when,
)
from .table import table, terminal_width


def _invalid_settings(error: SettingsError, params: dict[str, t.Any]) -> str:
    """What ``show`` can say when the app did not load: where the settings
    come from, and what the running applications do."""
    if not (is_file(error) or is_store(error)):
        return "Fix ENFORCE_HTTPS_SETTINGS in the application's config."
    if params.get("fmt") != "json":
        line = f"Settings: {error.source} (invalid; see the error below)"
        click.echo(textwrap.fill(line, terminal_width(), subsequent_indent="  "))
    return "Running applications keep their last good settings until it is fixed."


@command("show", on_invalid_settings=_invalid_settings)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def show(fmt: str) -> None:
    """Show the effective HTTPS settings of every endpoint, and why."""
    state = app_state()
    rows = endpoint_rows(the_app(), state)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    status = state.source.status()
    snapshot = state.snapshot()
    environment = snapshot.settings.environment
    hsts = snapshot.hsts_header or "off"
    if snapshot.hsts_header and snapshot.hsts_excluded:
        hsts += f" (not for {', '.join(sorted(snapshot.hsts_excluded))})"
    proxies = ", ".join(map(str, environment.trusted_proxies)) or "none"
    head = [
        f"Application: {state.config.application}",
        f"Settings: {status.source} ({status.state}; loaded {when(status.loaded_at)})",
        f"HSTS: {hsts}",
        f"Trusted proxies: {proxies}",
        "",
    ]
    width = terminal_width()
    for line in head:
        click.echo(textwrap.fill(line, width, subsequent_indent="  ") if line else "")
    reach = snapshot.exempt_reach(the_app().url_map.iter_rules())
    if reach:
        click.echo("Exempt paths (from what the administrator forced only):")
        for scope, entry, endpoints in reach:
            line = (
                f"{entry} ({scope}): {', '.join(endpoints) or 'no route of this app'}"
            )
            click.echo(
                textwrap.fill(
                    line, width, initial_indent="  ", subsequent_indent="    "
                )
            )
        click.echo("")
    heading, groups = table(rows, width)
    click.echo(heading)
    for row, lines in zip(rows, groups, strict=True):
        click.echo("\n".join(lines))
        for reason in row["reasons"]:
            click.echo(
                textwrap.fill(
                    reason, width, initial_indent="    why: ", subsequent_indent=" " * 9
                )
            )


def _headers(values: tuple[str, ...]) -> list[tuple[str, str]]:
    headers = []
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise InputError(f"-H: expected 'Name: value', got {value!r}")
        headers.append((name.strip(), content.strip()))
    return headers


@command("explain")
@click.argument("url")
@click.option(
    "-X",
    "--request",
    "method",
    default="GET",
    show_default=True,
    help="The request method.",
)
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    help="A request header, 'Name: value'; repeatable.",
)
@click.option(
    "--remote-addr",
    default="127.0.0.1",
    show_default=True,
    help="The address the request comes from (for trusted_proxies).",
)
@click.option(
    "--script-name",
    metavar="PREFIX",
    help="Where the application is mounted (SCRIPT_NAME), a prefix of the"
    " URL's path. Default: APPLICATION_ROOT when the URL is under it.",
)
@FORMAT
def explain(
    url: str,
    method: str,
    headers: tuple[str, ...],
    remote_addr: str,
    script_name: str | None,
    fmt: str,
) -> None:
    """Explain what the running rules would do with a request to URL."""
    app, state, pairs = the_app(), app_state(), _headers(headers)
    try:
        result = explanation(app, state, url, method, pairs, remote_addr, script_name)
    except BadURL as e:
        raise InputError(str(e)) from None
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    outcome = result["outcome"]
    if result["status"]:
        outcome += f" {result['status']}"
    if result["location"]:
        outcome += f" to {result['location']}"
    endpoint = result["endpoint"] or "no route"
    lines = [
        result["request"],
        *([f"  mounted:   {result['script_name']}"] if result["script_name"] else []),
        f"  endpoint:  {endpoint} ({result['kind']})",
        f"  design:    {result['design']}",
        f"  effective: {result['effective']}",
        f"  client:    {result['client']}",
        f"  outcome:   {outcome}",
        *(f"  because:   {reason}" for reason in result["reasons"]),
        f"  HSTS:      {result['hsts'] or 'not sent'}",
    ]
    click.echo("\n".join(lines))
