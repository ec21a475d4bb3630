"""Design-time declarations: what kind of endpoint a view is, and its level.

The decorators only record metadata on the function (or blueprint, or
class-based view) and return it unchanged, so they work above or below
``@app.route`` and cost nothing per request. :func:`design_for` reads the
metadata back once per endpoint; the result is cached by the policy layer.
"""

from __future__ import annotations

import enum
import types
import typing as t
import weakref
from dataclasses import dataclass

from flask import Blueprint, Flask

from .errors import ConfigurationError
from .levels import HttpSecurity, Level

#: The attribute under which a declaration is stored on its target.
ATTRIBUTE = "__enforce_https__"

Target = t.TypeVar("Target", bound="t.Callable[..., t.Any] | Blueprint | type")

# Every function a decorator declared, so that one that never became a view
# can be found (see placement.py). Weak: declaring keeps nothing alive.
_declared: weakref.WeakSet[types.FunctionType] = weakref.WeakSet()


class Kind(enum.Enum):
    """What an endpoint serves: a screen, or an exposed integration."""

    SCREEN = "screen"
    REST = "rest"
    SOAP = "soap"

    @property
    def is_integration(self) -> bool:
        """Whether the endpoint is an exposed integration (REST or SOAP)."""
        return self is not Kind.SCREEN


@dataclass(frozen=True)
class Declaration:
    """What a decorator recorded: a kind, and a level unless it inherits one.

    :param kind: The endpoint kind.
    :param level: The declared level, or ``None`` to inherit it.
    """

    kind: Kind
    level: HttpSecurity | None


@dataclass(frozen=True)
class Design:
    """The design-time security of one endpoint, after inheritance.

    :param kind: The endpoint kind.
    :param level: The design-time level.
    :param origin: Where the level came from: ``"view"``,
        ``"blueprint 'name'"`` or ``"default"``.
    """

    kind: Kind
    level: HttpSecurity
    origin: str


class Decorator(t.Protocol):
    """What ``screen()``, ``rest()`` and ``soap()`` return."""

    def __call__(self, target: Target, /) -> Target:
        """Record the declaration on a view function, class-based view or
        blueprint, and return it unchanged."""
        ...


def declare(kind: Kind, level: Level | None) -> Decorator:
    """Return a decorator recording ``kind`` and ``level`` on its target.

    :param kind: The endpoint kind.
    :param level: The level, its string value, or ``None`` to inherit.
    :raises ConfigurationError: ``level`` is not a level.
    """
    declaration = Declaration(
        kind, None if level is None else HttpSecurity.coerce(level, f"{kind.value}()")
    )

    def decorator(target: Target, /) -> Target:
        try:
            setattr(target, ATTRIBUTE, declaration)
        except AttributeError:
            raise ConfigurationError(
                f"{kind.value}()",
                f"cannot record a declaration on {target!r}; decorate the"
                " function itself, not a bound method",
            ) from None
        if isinstance(target, types.FunctionType):
            _declared.add(target)
        return target

    return decorator


def declared_functions() -> list[types.FunctionType]:
    """Return the functions declared so far that are still alive, in any
    application of the process."""
    return list(_declared)


def declaration_on(target: object) -> Declaration | None:
    """Return the declaration recorded on ``target`` itself, if any.

    :param target: A function, class or blueprint.
    """
    found = getattr(target, ATTRIBUTE, None)
    return found if isinstance(found, Declaration) else None


def _declaration_of(target: object) -> Declaration | None:
    found = getattr(target, ATTRIBUTE, None)
    if found is None:
        # A class-based view can be declared on the class; as_view() makes
        # a new function that only points back to it.
        found = getattr(getattr(target, "view_class", None), ATTRIBUTE, None)
    return found if isinstance(found, Declaration) else None


def design_for(app: Flask, endpoint: str | None, default: HttpSecurity) -> Design:
    """Return the design-time security of ``endpoint`` in ``app``.

    The view's own declaration wins; a missing kind or level is taken from
    the innermost enclosing blueprint that declares one, then from
    ``default``. Undeclared endpoints and unmatched URLs (``endpoint`` is
    ``None``) are screens at ``default``.

    :param app: The application.
    :param endpoint: The endpoint name, or ``None`` when no rule matched.
    :param default: The level for endpoints that declare none.
    """
    if endpoint is None:
        return Design(Kind.SCREEN, default, "default")
    chain: list[tuple[str, Declaration]] = []
    own = _declaration_of(app.view_functions.get(endpoint))
    if own is not None:
        chain.append(("view", own))
    # Registered blueprint names, innermost first: "outer.inner", "outer".
    name = endpoint.rpartition(".")[0]
    while name:
        declared = _declaration_of(app.blueprints.get(name))
        if declared is not None:
            chain.append((f"blueprint '{name}'", declared))
        name = name.rpartition(".")[0]
    if not chain:
        return Design(Kind.SCREEN, default, "default")
    kind = chain[0][1].kind
    for origin, declared in chain:
        if declared.level is not None:
            return Design(kind, declared.level, origin)
    return Design(kind, default, "default")
