"""What the ``flask https`` commands share."""

from __future__ import annotations

import datetime
import typing as t

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..state import AppState

https_cli = AppGroup(
    "https", help="Show, explain, change and check how HTTPS is enforced on this app."
)
WIDTH = 100
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def app_state() -> AppState:
    state = current_app.extensions.get("enforce_https")
    if not isinstance(state, AppState):
        raise click.UsageError(
            f"app {current_app.name!r} does not use EnforceHTTPS: call"
            " EnforceHTTPS(app) or ext.init_app(app) in the app factory."
        )
    return state


def the_app() -> Flask:
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]


def when(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
