"""What the console keeps for one app, in ``app.extensions``."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import Request, current_app

from ..levels import HttpSecurity
from .roles import Authorize

#: Where the console keeps its state in ``app.extensions``.
CONSOLE_KEY = "enforce_https_console"

UserName = t.Callable[[Request], "str | None"]


def default_user(request: Request) -> str | None:
    """The console user's name for the audit trail: the HTTP Basic user,
    else the server's ``REMOTE_USER``."""
    if request.authorization is not None and request.authorization.username:
        return request.authorization.username
    user = request.environ.get("REMOTE_USER")
    return user if isinstance(user, str) and user else None


@dataclass(frozen=True)
class ConsoleState:
    """What the console keeps for one app.

    :param authorize: Tells the role of a request's user.
    :param user: Tells the user's name, for the audit trail.
    :param prefix: Where the console is mounted.
    :param level: Its pages' design-time level.
    :param endpoints: Whether it shows the endpoints of the app it is in.
    """

    authorize: Authorize
    user: UserName
    prefix: str
    level: HttpSecurity
    endpoints: bool = True


def console_state() -> ConsoleState:
    """The console's state for the current app."""
    return t.cast(ConsoleState, current_app.extensions[CONSOLE_KEY])
