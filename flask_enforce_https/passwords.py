"""Password hashes for the console's :func:`~flask_enforce_https.console.basic_auth`.

Here rather than in the console package, so that ``flask https console
hash-password`` imports nothing of the console (which imports the
extension, which imports the command line).
"""

from __future__ import annotations

from werkzeug.security import generate_password_hash

from .errors import ConfigurationError


def hash_password(password: str) -> str:
    """Return the hash of ``password`` for the console's ``basic_auth``:
    werkzeug's :func:`~werkzeug.security.generate_password_hash`, scrypt by
    default.

    ``flask https console hash-password`` prints one without the password
    going into the shell's history.

    :param password: The password.
    :raises ConfigurationError: The password is empty.
    """
    if not password:
        raise ConfigurationError("password", "is empty; choose a long one")
    return generate_password_hash(password)
