"""The ``flask https`` commands: show, explain, set, unset, history."""

from __future__ import annotations

import datetime
import json
import sys
import textwrap
import typing as t
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import edits
from .errors import EnforceHTTPSError
from .report import BadURL, endpoint_rows, explanation
from .settings import APPLICATION_KEYS, ENVIRONMENT_KEYS, check_value
from .sources import FileSource
from .state import AppState

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

https_cli = AppGroup(
    "https", help="Show, explain and change how HTTPS is enforced on this app."
)
WIDTH = 100
_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def _state() -> AppState:
    state = current_app.extensions.get("enforce_https")
    if not isinstance(state, AppState):
        raise click.UsageError(
            f"app {current_app.name!r} does not use EnforceHTTPS: call"
            " EnforceHTTPS(app) or ext.init_app(app) in the app factory."
        )
    return state


def _app() -> Flask:
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]


def _when(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@https_cli.command("show")
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
    state = _state()
    rows = endpoint_rows(_app(), state)
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
        f"Application: {state.application}",
        f"Settings: {status.source} ({status.state}; loaded {_when(status.loaded_at)})",
        f"HSTS: {hsts}",
        f"Trusted proxies: {proxies}",
        "",
    ]
    for line in head:
        click.echo(textwrap.fill(line, WIDTH, subsequent_indent="  ") if line else "")
    # 20 + 22 + 10 + 6 + 15 + 15 + 6, with single spaces: 100 columns.
    columns = "{:<20} {:<22} {:<10} {:<6} {:<15} {:<15} {}"
    click.echo(
        columns.format(
            "ENDPOINT", "RULE", "METHODS", "KIND", "DESIGN", "EFFECTIVE", "EXEMPT"
        )
    )
    for row in rows:
        click.echo(
            columns.format(
                _cut(row["endpoint"], 20),
                _cut(row["rule"], 22),
                _cut(",".join(row["methods"]), 10),
                row["kind"],
                row["design"],
                row["effective"],
                "yes" if row["exempt"] else "-",
            )
        )
        for reason in row["reasons"]:
            click.echo(
                textwrap.fill(
                    reason, WIDTH, initial_indent="    why: ", subsequent_indent=" " * 9
                )
            )


def _headers(values: tuple[str, ...]) -> list[tuple[str, str]]:
    headers = []
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"expected 'Name: value', got {value!r}", param_hint="'-H'"
            )
        headers.append((name.strip(), content.strip()))
    return headers


@https_cli.command("explain")
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
@_FORMAT
def explain(
    url: str, method: str, headers: tuple[str, ...], remote_addr: str, fmt: str
) -> None:
    """Explain what the running rules would do with a request to URL."""
    try:
        result = explanation(
            _app(), _state(), url, method, _headers(headers), remote_addr
        )
    except BadURL as e:
        raise click.BadParameter(str(e), param_hint="'URL'") from None
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        return
    outcome = result["outcome"]
    if result["status"]:
        outcome += f" {result['status']}"
    if result["location"]:
        outcome += f" to {result['location']}"
    lines = [
        result["request"],
        f"  endpoint:  {result['endpoint']} ({result['kind']})",
        f"  design:    {result['design']}",
        f"  effective: {result['effective']}",
        f"  client:    {result['client']}",
        f"  outcome:   {outcome}",
        *(f"  because:   {reason}" for reason in result["reasons"]),
        f"  HSTS:      {result['hsts'] or 'not sent'}",
    ]
    click.echo("\n".join(lines))


def _file_source(state: AppState) -> FileSource:
    if not isinstance(state.source, FileSource):
        raise click.UsageError(
            "the settings come from a mapping in the config; set"
            " ENFORCE_HTTPS_SETTINGS to a .toml or .json file to change them here."
        )
    return state.source


def audit_log(state: AppState) -> Path:
    """Return where changes to the settings file are logged.

    :param state: The extension state of an app whose settings are a file.
    """
    configured = current_app.config.get("ENFORCE_HTTPS_AUDIT_LOG")
    if configured:
        return Path(configured)
    path = _file_source(state).path
    return path.with_name(path.name + ".audit.jsonl")


def _parse_value(key: str, text: str) -> object:
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    if isinstance(value, str) and key in (
        "hsts_excluded_hosts",
        "trusted_proxies",
        "exempt_paths",
    ):
        value = [item.strip() for item in value.split(",") if item.strip()]
    return value


def _check_key(key: str, scope: str) -> None:
    allowed = ENVIRONMENT_KEYS if scope == "environment" else APPLICATION_KEYS
    if key in allowed:
        return
    if key in ENVIRONMENT_KEYS:
        raise click.UsageError(f"{key} is an environment setting; drop --app")
    raise click.UsageError(
        f"unknown setting {key!r}; expected one of {', '.join(sorted(allowed))}"
    )


def _apply(scope: str, values: dict[str, object]) -> None:
    state = _state()
    source = _file_source(state)
    try:
        changes = edits.apply(source.path, audit_log(state), scope, values)
    except (EnforceHTTPSError, OSError) as e:
        raise click.ClickException(str(e)) from None
    if not changes:
        click.echo(f"{source.path}: nothing changed")
        return
    for change in changes:
        click.echo(
            f"{change.scope}.{change.key}: {json.dumps(change.old)} ->"
            f" {json.dumps(change.new)}"
        )
    click.echo(
        f"Written to {source.path}; running applications apply it within"
        f" {source.interval:g} s."
    )


_APP = click.option(
    "--app",
    "application",
    metavar="NAME",
    help="Change [applications.NAME] instead of [environment].",
)


@https_cli.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@_APP
def set_(assignments: tuple[str, ...], application: str | None) -> None:
    """Change settings in the settings file, with an audit trail."""
    scope = application or "environment"
    values: dict[str, object] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep:
            raise click.UsageError(f"expected KEY=VALUE, got {assignment!r}")
        _check_key(key, scope)
        value = _parse_value(key, text.strip())
        try:
            check_value(key, value)
        except ValueError as e:
            raise click.UsageError(f"{key}: {e}") from None
        values[key] = value
    _apply(scope, values)


@https_cli.command("unset")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@_APP
def unset(keys: tuple[str, ...], application: str | None) -> None:
    """Remove settings from the settings file, back to their defaults."""
    scope = application or "environment"
    for key in keys:
        _check_key(key, scope)
    _apply(scope, dict.fromkeys(keys))


@https_cli.command("history")
@_FORMAT
def history(fmt: str) -> None:
    """Print the audit log of changes made with 'flask https set'."""
    try:
        entries = edits.history(audit_log(_state()))
    except EnforceHTTPSError as e:
        raise click.ClickException(str(e)) from None
    if fmt == "json":
        click.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        where = f"{entry.get('scope')}.{entry.get('key')}"
        old, new = json.dumps(entry.get("old")), json.dumps(entry.get("new"))
        click.echo(f"{entry.get('time')}  {entry.get('user')}  {where}: {old} -> {new}")
