"""A web console for administrators: the security pages of the seed's
LifeTime and Service Center, for the environment and each application.

Mount it in an app that uses :class:`~flask_enforce_https.EnforceHTTPS`::

    from flask_enforce_https.console import Console, basic_auth

    # The hash from: flask https console hash-password
    Console(app, authorize=basic_auth({"admin": os.environ["CONSOLE_ADMIN_HASH"]}))

See :doc:`/console`.
"""

from __future__ import annotations

from .auth import (
    BasicAuth,
    ClientCertificateAuth,
    basic_auth,
    client_certificate_auth,
    hash_password,
)
from .central import create_console_app
from .extension import Console, ConsoleError
from .limits import TooManyAttempts
from .roles import Authorize, Role

__all__ = [
    "Authorize",
    "BasicAuth",
    "ClientCertificateAuth",
    "Console",
    "ConsoleError",
    "Role",
    "TooManyAttempts",
    "basic_auth",
    "client_certificate_auth",
    "create_console_app",
    "hash_password",
]
