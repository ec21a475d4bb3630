"""The ``flask https`` command group: a ``flask.commands`` entry point, so
that it exists even when the app fails to load, and added to ``app.cli`` by
:meth:`~flask_enforce_https.EnforceHTTPS.init_app`."""

from __future__ import annotations

from . import admin, check, inspect
from .common import https_cli

__all__ = ["admin", "check", "https_cli", "inspect"]
