"""Which store a ``flask https store`` command works on.

In order: ``--url``; the application's, when one is named (``flask --app
X`` or ``FLASK_APP``), loaded so that it does not touch the store (see
:mod:`~flask_enforce_https.loading`: ``store init`` must work for an app
that cannot serve until the store has its tables); the
``ENFORCE_HTTPS_SETTINGS`` environment variable, when it holds a store URL.
"""

from __future__ import annotations

import os
import typing as t

import click
from flask.cli import ScriptInfo

from ..loading import Purpose, names_store
from ..state import AppState
from .common import load_app

if t.TYPE_CHECKING:
    from ..store import StoreURL

#: Where the URL comes from when ``--url`` is not given and no app is named.
ENVIRONMENT_VARIABLE = "ENFORCE_HTTPS_SETTINGS"


def _named_app(ctx: click.Context) -> bool:
    info = ctx.find_object(ScriptInfo)
    return bool(
        (info is not None and (info.app_import_path or info.create_app))
        or os.environ.get("FLASK_APP")
    )


def store_url(url: str | None) -> str | StoreURL:
    """Return the URL of the store to work on.

    :param url: ``--url``, when given.
    :raises click.UsageError: No store is named, or the app's settings are
        not a store.
    """
    if url is not None:
        return url
    ctx = click.get_current_context()
    if _named_app(ctx):
        app = load_app(ctx, purpose=Purpose.STORE_COMMAND)
        state = app.extensions.get("enforce_https")
        source = getattr(state, "source", None) if isinstance(state, AppState) else None
        found = getattr(source, "url", None)
        if found is None:
            raise click.UsageError(
                f"app {app.name!r} does not read its settings from a store:"
                f" set its {ENVIRONMENT_VARIABLE} to a store URL, or name the"
                " store with --url URL"
            )
        return t.cast("StoreURL", found)
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
    if from_environment and names_store(from_environment):
        return from_environment
    raise click.UsageError(
        f"name the store with --url URL, run with --app APP whose settings are"
        f" a store, or set {ENVIRONMENT_VARIABLE} to its URL"
        " (sqlite:///PATH/settings.db or postgresql+psycopg://USER@HOST/DATABASE)"
    )
