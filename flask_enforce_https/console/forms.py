"""The settings forms: one field per setting key, named by the key.

A box ticked sets the key to ``true``; a box left empty unsets it (back to
the default, or to what the environment forces: an application's settings
only tighten). A number or a list left empty unsets it too. Lists are one
entry per line. Every value goes through the settings' own validation.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ..settings import check_value

Kind = t.Literal["flag", "number", "lines"]


@dataclass(frozen=True)
class Field:
    """One setting on a form.

    :param key: The setting's key, also the field's name.
    :param label: What the form calls it.
    :param kind: A box, a number or a list.
    :param help: One sentence on what it does.
    """

    key: str
    label: str
    kind: Kind
    help: str


FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field(
            "hsts",
            "Enable HSTS",
            "flag",
            "Browsers that saw the header refuse plain HTTP for this host"
            " until max-age runs out.",
        ),
        Field(
            "hsts_max_age",
            "HSTS max-age (seconds)",
            "number",
            "How long browsers remember; 0 tells them to forget.",
        ),
        Field(
            "hsts_include_subdomains",
            "HSTS includeSubDomains",
            "flag",
            "Every subdomain of the host too, served by this app or not.",
        ),
        Field(
            "hsts_preload",
            "HSTS preload",
            "flag",
            "Allows the host into browsers' built-in lists; leaving them takes months.",
        ),
        Field(
            "hsts_excluded_hosts",
            "Hosts without HSTS",
            "lines",
            "One host per line that never gets the header.",
        ),
        Field(
            "force_https_screens",
            "Force HTTPS for screens",
            "flag",
            "Plain-HTTP requests to screens are redirected to HTTPS.",
        ),
        Field(
            "force_https_integrations",
            "Force HTTPS for exposed integrations",
            "flag",
            "Plain-HTTP calls to REST and SOAP endpoints are refused (403).",
        ),
        Field(
            "secure_cookies",
            "Secure cookies",
            "flag",
            "Cookies sent over HTTPS get the Secure flag.",
        ),
        Field(
            "trusted_proxies",
            "Trusted proxies",
            "lines",
            "One address or network per line whose X-Forwarded headers count.",
        ),
        Field(
            "exempt_paths",
            "Exempt paths",
            "lines",
            "One path per line (end with / for a prefix) that forcing does not reach.",
        ),
    )
}

ENVIRONMENT_FIELDS = tuple(FIELDS)
APPLICATION_FIELDS = (
    "force_https_screens",
    "force_https_integrations",
    "secure_cookies",
    "exempt_paths",
)


class FormError(ValueError):
    """A field's value is not valid; the message names the field.

    :param key: The field.
    :param problem: What is wrong.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{FIELDS[key].label}: {problem}")


def fields_of(scope: str) -> tuple[Field, ...]:
    """The fields of ``scope``'s form: the environment's, or an
    application's."""
    keys = ENVIRONMENT_FIELDS if scope == "environment" else APPLICATION_FIELDS
    return tuple(FIELDS[key] for key in keys)


def read_form(
    scope: str, form: MultiDict[str, str], current: t.Mapping[str, object]
) -> dict[str, object]:
    """The values a submitted form asks for, every field of ``scope`` (an
    unset key is ``None``), validated.

    :param scope: ``"environment"`` or an application's name.
    :param form: The submitted form.
    :param current: The scope's settings as written now: a box left empty
        keeps an explicit ``false``, rather than unsetting it.
    :raises FormError: A value is not valid.
    """
    values: dict[str, object] = {}
    for field in fields_of(scope):
        raw = form.get(field.key, "")
        value: object
        if field.kind == "flag":
            ticked = raw in ("on", "true", "1")
            value = (
                True if ticked else (False if current.get(field.key) is False else None)
            )
        elif field.kind == "number":
            text = raw.strip()
            if not text:
                value = None
            elif not text.isdigit():
                raise FormError(field.key, f"expected a whole number, got {text!r}")
            else:
                value = int(text)
        else:
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            value = lines or None
        if value is not None and value is not False:
            try:
                check_value(field.key, value)
            except ValueError as e:
                raise FormError(field.key, str(e)) from None
        values[field.key] = value
    return values


def shown(field: Field, value: object) -> str:
    """A value as its field shows it: lines of a list, a number as text."""
    if value is None:
        return ""
    if field.kind == "lines" and isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return str(value)
