"""Authorizers for the console: HTTP Basic with password hashes, and the
client certificates the extension verified.

An authorizer is any callable that takes the request and answers
``"editor"``, ``"reader"`` or ``None`` (see :mod:`.roles`). An application
that already signs its users in passes its own:

.. code-block:: python

    from flask_login import current_user

    def authorize(request):
        if current_user.is_authenticated and current_user.is_admin:
            return "editor"
        return None

    console = Console(authorize=authorize)

The console also reads two optional attributes of an authorizer:

``challenge``
    The ``WWW-Authenticate`` value to send with a 401, so that a browser
    asks for a password again (:func:`basic_auth` has one).
``level``
    The level the console's pages are declared at: ``"tls"`` for
    passwords, ``"tls-client-cert"`` for :func:`client_certificate_auth`,
    whose certificates the extension verifies only at that level.

HTTP Basic credentials go with every request, cross-site ones too: pages
that change anything need :mod:`.forgery`'s checks as well.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import typing as t

from flask import Request
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import ConfigurationError
from ..passwords import hash_password as hash_password
from .addresses import client_address
from .certificate_auth import ClientCertificateAuth, client_certificate_auth
from .limits import FailureLimit, TooManyAttempts
from .roles import Role

__all__ = [
    "BasicAuth",
    "ClientCertificateAuth",
    "TooManyAttempts",
    "basic_auth",
    "client_certificate_auth",
    "hash_password",
]

# What werkzeug's generate_password_hash makes: method and parameters, a
# salt, and the hash in hex. Anything else is most likely a password that
# was meant to be hashed.
_HASH = re.compile(
    r"(?:scrypt(?::\d+:\d+:\d+)?|pbkdf2(?::(?P<digest>[a-z0-9_-]+)(?::\d+)?)?)"
    r"\$[^$]+\$[0-9a-f]+"
)
#: A user name longer than this is counted by its SHA-256 digest, so that
#: the failure table's memory is bounded whatever clients send.
_NAME_KEPT = 256


def _is_hash(value: object) -> bool:
    if not isinstance(value, str):
        return False
    match = _HASH.fullmatch(value)
    if match is None:
        return False
    digest = match.group("digest")
    return digest is None or digest in hashlib.algorithms_available


class BasicAuth:
    """The authorizer :func:`basic_auth` returns: call it with the request.

    :ivar challenge: The ``WWW-Authenticate`` value the console sends with a
        401 (``Basic realm="...", charset="UTF-8"``).
    :ivar level: ``"tls"``: passwords travel only over HTTPS.
    """

    level = "tls"

    def __init__(
        self,
        roles: dict[str, tuple[Role, str]],
        limit: FailureLimit,
        realm: str,
    ) -> None:
        self._roles = roles
        self._limit = limit
        self.realm = realm
        self.challenge = f'Basic realm="{realm}", charset="UTF-8"'
        # Checked for unknown names, so that the time taken does not tell
        # which names exist: made with the users' own method, so as costly.
        self._dummy = ""
        tried: set[str] = set()
        for name, (_, stored) in roles.items():
            method = stored.partition("$")[0]
            if method in tried:
                continue
            tried.add(method)
            try:
                dummy = generate_password_hash(secrets.token_hex(16), method)
            except (ValueError, MemoryError):
                # Refused now rather than as a 500 at each sign-in.
                raise ConfigurationError(
                    f"basic_auth user {name!r}",
                    f"hash method {method!r} cannot be used here; hash the"
                    " password again with 'flask https console hash-password'",
                ) from None
            self._dummy = self._dummy or dummy

    def __call__(self, request: Request) -> Role | None:
        """Return the role of the request's HTTP Basic user, or ``None``.

        A request without HTTP Basic credentials, or with credentials that
        do not parse, is ``None`` and counts as no failure.

        :param request: The request.
        :raises TooManyAttempts: This client address and user name failed
            too often within the window: the password is not checked.
        """
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return None
        name, password = auth.username, auth.password
        if name is None or password is None:
            return None
        kept = name if len(name) <= _NAME_KEPT else _digest(name)
        key = (client_address(request.environ), kept)
        # Counted as a failure before the check, so that attempts made at
        # the same moment cannot all pass the limit.
        attempt = self._limit.attempt(key)
        role, stored = self._roles.get(name, (None, self._dummy))
        if check_password_hash(stored, password) and role is not None:
            self._limit.succeeded(key, attempt)
            return role
        self._limit.failed(key, attempt)
        return None

    def __repr__(self) -> str:
        return f"<BasicAuth realm={self.realm!r} users={len(self._roles)}>"


def _digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def basic_auth(
    editors: t.Mapping[str, str],
    readers: t.Mapping[str, str] | None = None,
    *,
    max_failures: int = 5,
    window: float = 300.0,
    tracked: int = 10_000,
    realm: str = "flask-enforce-https console",
) -> BasicAuth:
    """Make an authorizer that checks HTTP Basic credentials against
    password hashes.

    .. code-block:: python

        console = Console(authorize=basic_auth(
            editors={"alice": os.environ["CONSOLE_ALICE_HASH"]},
            readers={"bob": os.environ["CONSOLE_BOB_HASH"]},
        ))

    Failed attempts are counted by client address (:func:`.client_address`,
    through trusted proxies only) and user name together: behind a proxy,
    one client's failures lock out neither the others nor another user.
    After ``max_failures`` failures within ``window`` seconds, that pair's
    attempts raise :class:`TooManyAttempts` without the password being
    checked, until the oldest of them is ``window`` seconds old. Unknown
    names are counted like known ones, and cost a hash check too, so that
    neither the answers nor their timing tell which names exist. The
    counts live in the process's memory: each worker process counts its
    own.

    :param editors: User names and their password hashes
        (:func:`hash_password`, ``flask https console hash-password``).
    :param readers: The same, for users who may only look.
    :param max_failures: Failures allowed within ``window``.
    :param window: Seconds a failure counts for.
    :param tracked: The most (address, name) pairs remembered; the one that
        failed longest ago is forgotten first.
    :param realm: The realm browsers show when they ask for a password.
    :raises ConfigurationError: A value is not a werkzeug password hash (a
        plain-text password?), a name is in both mappings, or there is no
        user at all.
    """
    roles: dict[str, tuple[Role, str]] = {}
    given: tuple[tuple[str, Role, t.Mapping[str, str]], ...] = (
        ("editors", "editor", editors),
        ("readers", "reader", readers or {}),
    )
    for argument, role, users in given:
        for name, stored in users.items():
            key = f"basic_auth {argument}[{name!r}]"
            if not isinstance(name, str) or not name or ":" in name:
                raise ConfigurationError(
                    key, "a user name is a non-empty string without ':'"
                )
            if name in roles:
                raise ConfigurationError(
                    key, "is also an editor: give each user one role"
                )
            if not _is_hash(stored):
                # Never the value itself: it may well be a password.
                raise ConfigurationError(
                    key,
                    "is not a werkzeug password hash (such as"
                    " 'scrypt:32768:8:1$...'); store the output of"
                    " 'flask https console hash-password' or"
                    " hash_password(), never the password",
                )
            roles[name] = (role, stored)
    if not roles:
        raise ConfigurationError(
            "basic_auth", "has no user: name at least one editor or reader"
        )
    if not isinstance(realm, str) or not re.fullmatch(r"[ !#-\[\]-~]+", realm):
        raise ConfigurationError(
            "basic_auth realm",
            "must be printable ASCII without quotes or backslashes",
        )
    return BasicAuth(roles, FailureLimit(max_failures, window, tracked), realm)
