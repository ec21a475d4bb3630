"""The registry of deploy checks: one small function per finding id.

A check is registered with its id, severity and hint, and returns the
finding's message, or ``None`` when all is well. :func:`deploy_findings`
runs every registered check, in the order they were registered.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

from flask import Flask

from ..findings import Finding, Severity
from ..policy import Policy
from ..state import AppState

Check = t.Callable[["Context"], "str | None"]


class Context:
    """What the checks read, worked out once per run.

    :param app: The application.
    :param state: Its extension state.
    """

    def __init__(self, app: Flask, state: AppState) -> None:
        self.app = app
        self.state = state
        self.snapshot = state.snapshot()
        self.environment = self.snapshot.settings.environment
        self.own = self.snapshot.settings.application(state.config.application)

    @functools.cached_property
    def policies(self) -> list[Policy]:
        """The effective policies of the URL rules (exempt from the
        administrator's forcing on exempt paths), but for static files, which
        need no cookies."""
        return [
            self.snapshot.rule_policy(rule)
            for rule in self.app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.endpoint.endswith(".static")
        ]


@dataclass(frozen=True)
class DeployCheck:
    """One registered check.

    :param id: The id of the finding it reports.
    :param severity: The finding's severity.
    :param hint: What to do about it.
    :param run: Returns the finding's message, or ``None``.
    """

    id: str
    severity: Severity
    hint: str
    run: Check


_CHECKS: dict[str, DeployCheck] = {}


def register(id: str, severity: Severity, hint: str) -> t.Callable[[Check], Check]:
    """Register the decorated function as the check of finding ``id``.

    :param id: The finding id; one check per id.
    :param severity: The finding's severity.
    :param hint: What to do about it.
    :raises ValueError: ``id`` already has a check.
    """

    def decorator(run: Check) -> Check:
        if id in _CHECKS:
            raise ValueError(f"deploy check {id!r} is already registered")
        _CHECKS[id] = DeployCheck(id, severity, hint, run)
        return run

    return decorator


def registered() -> list[DeployCheck]:
    """Return the registered checks, in registration order."""
    return list(_CHECKS.values())


def deploy_findings(app: Flask, state: AppState) -> list[Finding]:
    """Run every deploy check over the effective settings.

    :param app: The application.
    :param state: Its extension state.
    """
    context = Context(app, state)
    found = []
    for check in _CHECKS.values():
        message = check.run(context)
        if message is not None:
            found.append(Finding(check.id, check.severity, message, check.hint))
    return found
