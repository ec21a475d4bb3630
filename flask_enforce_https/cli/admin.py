"""``flask https set`` and ``unset``: audited changes to the settings, in a
file or a store, through the app's
:class:`~flask_enforce_https.writers.SettingsWriter`."""

from __future__ import annotations

import json
import tomllib
import typing as t

import click

from ..errors import (
    ConflictError,
    EnforceHTTPSError,
    ReadOnlySettingsError,
    SettingsError,
)
from ..settings import APPLICATION_KEYS, ENVIRONMENT_KEYS, check_value
from ..sources import FileSource
from ..writers import Outcome, SettingsWriter, writer_for
from .common import app_state, command, is_file, is_store, printable


def writer() -> SettingsWriter:
    """Return the writer of the app's settings; settings that no writer can
    change are a usage error."""
    try:
        target = writer_for(app_state())
    except ReadOnlySettingsError as e:
        raise click.UsageError(str(e)) from None
    # A store's connections go with the command, not at garbage collection.
    click.get_current_context().call_on_close(target.close)
    return target


def fail(where: str, error: Exception) -> click.ClickException:
    """One ``Error:`` line for a write that failed; a conflict names the
    file or store, which its message does not."""
    if isinstance(error, ConflictError):
        return click.ClickException(f"{where}: {error}")
    return click.ClickException(" ".join(str(error).split()))


def report(target: SettingsWriter, outcome: Outcome) -> None:
    """Print what a write changed, that a change to the environment applies
    to every application, and when running applications apply it.

    :param target: The writer that wrote.
    :param outcome: What it did.
    """
    if outcome.revision is None:
        click.echo(f"{target.where}: nothing changed")
        return
    for change in outcome.changes:
        click.echo(
            f"{printable(change.scope)}.{printable(change.key)}:"
            f" {json.dumps(change.old)} -> {json.dumps(change.new)}"
        )
    if any(change.scope == "environment" for change in outcome.changes):
        click.echo(
            f"[environment] applies to every application reading {target.where}."
        )
    source = app_state().source
    if isinstance(source, FileSource):
        # A check sees the change within the interval; it applies once a
        # read one stability window later agrees (docs/settings.rst, Hot
        # reload). Checks run on requests: an idle application sees it at
        # its next one.
        click.echo(
            f"Written to {target.where} (revision {outcome.revision}); running"
            " applications apply it within"
            f" {source.interval + source.stable_for:g} s while serving"
            f" requests (an idle one, {source.stable_for:g} s after its next"
            " request)."
        )
        return
    # A store's readers poll it every reload interval and, on PostgreSQL
    # with ENFORCE_HTTPS_STORE_LISTEN, hear of a write at once.
    if getattr(source, "listen", False):
        when = "within about a second (PostgreSQL NOTIFY)"
    else:
        interval = getattr(source, "interval", app_state().config.reload_interval)
        when = f"within {interval:g} s (ENFORCE_HTTPS_RELOAD_INTERVAL)"
    click.echo(
        f"Revision {outcome.revision} written to {target.where}; running"
        f" applications apply it {when}."
    )


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


def _apply(scope: str, values: dict[str, object], reason: str | None) -> None:
    target = writer()
    try:
        outcome = target.change(scope, values, expected=None, reason=reason)
    except (EnforceHTTPSError, OSError) as e:
        raise fail(target.where, e) from None
    report(target, outcome)


def _scope(application: str | None, new_application: bool, verb: str) -> str:
    """The table to change: ``environment``, or a known application's name.

    A misspelt name would otherwise start a table that no application reads.
    """
    if application is None:
        if new_application:
            raise click.UsageError("--new-application needs --application NAME")
        return "environment"
    state = app_state()
    target = writer()
    try:
        named = target.known_applications()
    except (EnforceHTTPSError, OSError) as e:
        raise fail(target.where, e) from None
    known = {state.config.application, *named}
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
    " this app's, already in the settings, or (with a store) one whose"
    " processes read it.",
)
REASON = click.option("--reason", help="Why; recorded in the history.")


def _settings_hint(error: SettingsError, params: dict[str, t.Any]) -> str:
    if is_store(error):
        return (
            "The store's revision in force is invalid (changed by hand?):"
            " write a valid one with flask https set, revert or store import."
            " Running applications keep their last good settings until then."
        )
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
@REASON
@click.option(
    "--new-application",
    is_flag=True,
    help="Allow an application NAME that the settings do not have yet.",
)
def set_(
    assignments: tuple[str, ...],
    application: str | None,
    reason: str | None,
    new_application: bool,
) -> None:
    """Change settings in the settings file or store, with an audit trail.

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
    _apply(scope, values, reason)


@command("unset", on_invalid_settings=_settings_hint)
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@_APPLICATION
@REASON
def unset(keys: tuple[str, ...], application: str | None, reason: str | None) -> None:
    """Remove settings from the settings file or store, back to their
    defaults."""
    scope = _scope(application, False, "unset")
    for key in keys:
        _check_key(key, scope)
    _apply(scope, dict.fromkeys(keys), reason)
