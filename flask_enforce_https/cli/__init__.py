"""The ``flask https`` command group: a ``flask.commands`` entry point, so
that it exists even when the app fails to load, and added to ``app.cli`` by
:meth:`~flask_enforce_https.EnforceHTTPS.init_app`.

Each module makes its commands with :func:`.common.command`, which adds
them to no group: this is the one place that says which commands
``flask https`` has.
"""

from __future__ import annotations

from .admin import set_, unset
from .check import check
from .common import https_cli
from .console import console_cli
from .history import history, revert
from .inspect import explain, show
from .store import store_cli

for _command in (
    show,
    explain,
    set_,
    unset,
    history,
    revert,
    check,
    store_cli,
    console_cli,
):
    https_cli.add_command(_command)

__all__ = ["https_cli"]
