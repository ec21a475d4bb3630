"""``flask https set``, ``unset`` and ``history``: audited changes to the
settings file."""

from __future__ import annotations

import json
import tomllib
import typing as t
from pathlib import Path

import click

from .. import audit, edits
from ..errors import EnforceHTTPSError, SettingsError
from ..settings import APPLICATION_KEYS, ENVIRONMENT_KEYS, check_value
from ..sources import FileSource
from ..state import AppState
from .common import FORMAT, app_state, command, is_file, printable


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
    if state.config.audit_log is not None:
        return state.config.audit_log
    path = _file_source(state).path
    return path.with_name(path.name + ".audit.jsonl")


_BOOLEANS = {
    "true": True,
    "yes": True,
    "on": True,
    "false": False,
    "no": False,
    "off": False,
}


def _is_boolean(key: str) -> bool:
    try:
        check_value(key, True)
    except ValueError:
        return False
    return True


def _parse_value(key: str, text: str) -> object:
    if text.lower() in _BOOLEANS and _is_boolean(key):
        return _BOOLEANS[text.lower()]
    try:
        document = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        value: object = text
    else:
        if list(document) != ["v"]:
            # "[...]\nhsts = true" is one value and then another setting.
            raise click.UsageError(
                f"{key}: expected one value, got {text!r}; set each key as"
                " its own KEY=VALUE argument"
            )
        value = document["v"]
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
        raise click.UsageError(f"{key} is an environment setting; drop --application")
    raise click.UsageError(
        f"unknown setting {key!r}; expected one of {', '.join(sorted(allowed))}"
    )


def _apply(scope: str, values: dict[str, object]) -> None:
    state = app_state()
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
    if scope == "environment":
        click.echo(f"[environment] applies to every application reading {source.path}.")
    # A check sees the change within the interval; it applies once a read
    # one stability window later agrees (docs/settings.rst, Hot reload).
    # Checks run on requests: an idle application sees it at its next one.
    click.echo(
        f"Written to {source.path}; running applications apply it within"
        f" {source.interval + source.stable_for:g} s while serving requests"
        f" (an idle one, {source.stable_for:g} s after its next request)."
    )


def _scope(application: str | None, new_application: bool, verb: str) -> str:
    """The table to change: ``environment``, or a known application's name.

    A misspelt name would otherwise start a table that no application reads.
    """
    if application is None:
        if new_application:
            raise click.UsageError("--new-application needs --application NAME")
        return "environment"
    state = app_state()
    known = {state.config.application, *state.snapshot().settings.applications}
    if application in known or new_application:
        return application
    others = sorted(known - {state.config.application})
    also = f"also have {', '.join(map(repr, others))}" if others else "have no other"
    message = (
        f"unknown application {application!r}: this app is"
        f" {state.config.application!r} and the settings {also}"
    )
    if verb == "set":
        message += "; pass --new-application to add settings for a new one"
    raise click.UsageError(message)


_APPLICATION = click.option(
    "--application",
    metavar="NAME",
    help="Change [applications.NAME] instead of [environment]. NAME must be"
    " this app's or already in the settings.",
)


def _settings_hint(error: SettingsError, params: dict[str, t.Any]) -> str:
    if not is_file(error):
        return "Fix ENFORCE_HTTPS_SETTINGS in the application's config."
    return (
        "Fix the file by hand first: set and unset only change a valid"
        " settings file. Running applications keep their last good settings"
        " until then."
    )


@command("set", on_invalid_settings=_settings_hint)
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@_APPLICATION
@click.option(
    "--new-application",
    is_flag=True,
    help="Allow an application NAME that the settings do not have yet.",
)
def set_(
    assignments: tuple[str, ...], application: str | None, new_application: bool
) -> None:
    """Change settings in the settings file, with an audit trail.

    VALUE is TOML (true, 300, "text", ["/a", "/b"]), yes/no/on/off for
    true/false, or plain text; lists may be written a,b,c.
    """
    scope = _scope(application, new_application, "set")
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


@command("unset", on_invalid_settings=_settings_hint)
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@_APPLICATION
def unset(keys: tuple[str, ...], application: str | None) -> None:
    """Remove settings from the settings file, back to their defaults."""
    scope = _scope(application, False, "unset")
    for key in keys:
        _check_key(key, scope)
    _apply(scope, dict.fromkeys(keys))


@command("history")
@FORMAT
def history(fmt: str) -> None:
    """Print the audit log of changes made with 'flask https set'."""
    log = audit_log(app_state())
    try:
        found = audit.history(log)
    except EnforceHTTPSError as e:
        raise click.ClickException(str(e)) from None
    for number, why in found.skipped:
        click.echo(f"{log}, line {number}: skipped, {why}", err=True)
    if fmt == "json":
        click.echo(json.dumps(found.entries, indent=2))
        return
    for entry in found.entries:
        where = f"{printable(entry.get('scope'))}.{printable(entry.get('key'))}"
        old, new = json.dumps(entry.get("old")), json.dumps(entry.get("new"))
        click.echo(
            f"{printable(entry.get('time'))}  {printable(entry.get('user'))}"
            f"  {where}: {old} -> {new}"
        )
