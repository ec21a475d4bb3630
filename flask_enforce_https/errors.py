"""Exceptions raised by flask-enforce-https.

Every error the extension raises is an :class:`EnforceHTTPSError`, so an
application can catch them all at once; the subclasses say what went wrong
and where, in words an operator can act on.
"""

from __future__ import annotations


class EnforceHTTPSError(Exception):
    """Base class of every error raised by flask-enforce-https."""


class ConfigurationError(EnforceHTTPSError, ValueError):
    """An ``ENFORCE_HTTPS_*`` config key or a declaration has a bad value.

    :param key: The config key or argument that is wrong.
    :param problem: What is wrong with it, and what would be right.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class SettingsError(EnforceHTTPSError, ValueError):
    """Administrator settings are invalid.

    :param source: Where the settings came from: a file path, or
        ``"ENFORCE_HTTPS_SETTINGS"`` for a mapping in the config.
    :param key: The dotted key that is wrong, such as
        ``"applications.shop.force_https_screens"``; empty when the whole
        source is unusable.
    :param problem: What is wrong, and what would be right.
    :param line: The line of the problem in the file, when it is known.
    """

    def __init__(
        self, source: str, key: str, problem: str, line: int | None = None
    ) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        what = f"{key}: {problem}" if key else problem
        super().__init__(f"{where}: {what}")
