"""What the console's views share: the app it is mounted in, its extension
state, and the writer of its settings."""

from __future__ import annotations

import typing as t

from flask import Flask, abort, current_app

from ..errors import ReadOnlySettingsError
from ..state import EXTENSION_KEY, AppState
from ..writers import SettingsWriter, writer_for


def the_app() -> Flask:
    """The application the console is mounted in (not a proxy of it)."""
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]


def app_state() -> AppState:
    """The extension's state for the app."""
    return t.cast(AppState, current_app.extensions[EXTENSION_KEY])


def writer() -> SettingsWriter | None:
    """The writer of the app's settings; ``None`` when they are a mapping
    in the config, which only a deploy changes."""
    try:
        return writer_for(app_state())
    except ReadOnlySettingsError:
        return None


def writer_or_409() -> SettingsWriter:
    """The writer, or a 409 saying why the settings cannot change here."""
    found = writer()
    if found is None:
        abort(
            409,
            "The settings are a mapping in the application's config: set"
            " ENFORCE_HTTPS_SETTINGS to a file or a store to change them here.",
        )
    return found
