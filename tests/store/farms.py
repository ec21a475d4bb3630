"""Shared by the tests that serve :mod:`farm_app` with gunicorn
(test_farm.py, test_faults.py): the environment it reads."""

from __future__ import annotations

import os
from pathlib import Path

from test_stack import ROOT, TESTS


def farm_env(
    url: str,
    instance: Path,
    *,
    interval: float,
    listen: bool = True,
    host: str = "farm",
) -> dict[str, str]:
    """The environment of a :mod:`farm_app` process, a gunicorn master or
    ``flask --app farm_app``: the repository and the tests importable,
    output unbuffered, no settings or app from the test run's own
    environment.

    :param url: The store (``FARM_STORE``).
    :param instance: The instance folder, for the settings cache.
    :param interval: The reload interval.
    :param listen: Whether to LISTEN for the store's notifications.
    :param host: The host the process stands for (``FARM_HOST``).
    """
    drop = ("FLASK_APP", "ENFORCE_HTTPS_SETTINGS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    path = [str(ROOT), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        FARM_STORE=url,
        FARM_HOST=host,
        FARM_INSTANCE=str(instance),
        FARM_RELOAD_INTERVAL=str(interval),
        FARM_LISTEN="1" if listen else "0",
        PYTHONPATH=os.pathsep.join(path),
        PYTHONUNBUFFERED="1",
    )
    return env
