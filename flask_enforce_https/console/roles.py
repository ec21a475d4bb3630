"""Who may do what in the console: the contract of an authorizer."""

from __future__ import annotations

import typing as t

from flask import Request

#: ``"editor"`` reviews and applies changes; ``"reader"`` only looks.
Role = t.Literal["editor", "reader"]

#: Tells who the request's user is allowed to be: a role, or ``None`` for
#: nobody (the console answers 401, or 403 when it cannot ask again).
Authorize = t.Callable[[Request], "Role | None"]

ROLES: tuple[Role, ...] = ("editor", "reader")
