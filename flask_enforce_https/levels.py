"""The design-time HTTP security levels."""

from __future__ import annotations

import enum
import functools
import typing as t

from .errors import ConfigurationError


@functools.total_ordering
class HttpSecurity(enum.Enum):
    """How an endpoint may be reached, ordered from loosest to strictest.

    ``NONE < TLS < TLS_CLIENT_CERT``. These are OutSystems' *None*,
    *SSL/TLS* and *SSL/TLS with client certificates*. The values
    ``"none"``, ``"tls"`` and ``"tls-client-cert"`` are accepted wherever a
    level is.
    """

    NONE = "none"
    TLS = "tls"
    TLS_CLIENT_CERT = "tls-client-cert"

    @classmethod
    def coerce(cls, value: HttpSecurity | str, key: str = "level") -> HttpSecurity:
        """Return the level for ``value``, a member or its string value.

        :param value: The level, or one of ``"none"``, ``"tls"``,
            ``"tls-client-cert"`` (case-insensitive).
        :param key: The name to blame in the error message.
        :raises ConfigurationError: The value is not a level.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        choices = ", ".join(repr(m.value) for m in cls)
        raise ConfigurationError(key, f"expected one of {choices}, got {value!r}")

    @property
    def requires_tls(self) -> bool:
        """Whether the level admits only HTTPS requests."""
        return self is not HttpSecurity.NONE

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, HttpSecurity):
            return NotImplemented
        return _RANK[self] < _RANK[other]


_RANK = {level: rank for rank, level in enumerate(HttpSecurity)}

#: A level, or its value as a string: what the decorators accept. A typo
#: such as ``"tsl"`` is a type error, and at run time a
#: :class:`~flask_enforce_https.ConfigurationError`.
Level: t.TypeAlias = HttpSecurity | t.Literal["none", "tls", "tls-client-cert"]
