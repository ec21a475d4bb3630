"""The ``flask https`` command group, registered on the app by
:meth:`~flask_enforce_https.EnforceHTTPS.init_app`."""

from __future__ import annotations

from . import admin, inspect
from .common import https_cli

__all__ = ["admin", "https_cli", "inspect"]
