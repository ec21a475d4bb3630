"""Declarations written where they are ignored.

A declaration on a method of a class-based view (``MethodView``) is never
read: the endpoint's view is the function ``as_view()`` makes, and a method's
class does not exist yet when its decorator runs. So the scan at
:meth:`~flask_enforce_https.EnforceHTTPS.init_app` and at the first request
refuses it.

A declared function that is no endpoint's view (a wrapper without
:func:`functools.wraps` between ``@app.route`` and the declaration) is
reported by ``flask https check`` and logged at the first request, but never
fails a request: a process can hold other applications' views. Only
functions of this application's modules are reported: the modules of its
views, and the module named by its ``import_name``.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import types
import typing as t
import weakref

from flask import Flask, has_request_context

from .declarations import Declaration, declaration_on, declared_functions
from .errors import ConfigurationError

logger = logging.getLogger("flask_enforce_https")

#: The id of the ``flask https check`` finding, and of the log line, for a
#: declared function that is no endpoint's view; and of a declared method.
DECLARATION_NOT_A_VIEW = "declaration-not-a-view"
DECLARATION_ON_METHOD = "declaration-on-method"
NOT_A_VIEW_HINT = (
    "Put the declaration right under @app.route (or the class's"
    " decorators = [...]), or make each decorator between them use"
    " functools.wraps."
)

# Wrappers nest a handful deep; the bound stops a __wrapped__ cycle.
_DEPTH = 32

# The applications scanned so far: a function routed in any of them is a
# view, even when another application of the same module does not route it.
_apps: weakref.WeakSet[Flask] = weakref.WeakSet()


def where(function: object) -> str:
    """Return ``file:line`` of the code of ``function`` (unwrapped).

    :param function: A function, possibly wrapped with ``functools.wraps``.
    """
    if callable(function):
        with contextlib.suppress(ValueError):  # a __wrapped__ cycle
            function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None:
        return "unknown file"
    return f"{code.co_filename}:{code.co_firstlineno}"


def _view_class_members(app: Flask) -> t.Iterator[tuple[type, str, object]]:
    """``(class, name, function)`` of every member of ``app``'s class-based
    views, inherited ones included."""
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        if not isinstance(view_class, type):
            continue
        for klass in view_class.__mro__:
            for name, member in vars(klass).items():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if not isinstance(member, type):  # a nested class is its own
                    yield klass, name, member


def declared_methods(app: Flask) -> list[tuple[str, Declaration, str]]:
    """Return the declarations on methods of ``app``'s class-based views.

    :param app: The application.
    :return: ``(Class.method, declaration, file:line)``, sorted.
    """
    found = {}
    for klass, name, member in _view_class_members(app):
        declared = declaration_on(member)
        if declared is not None:
            label = f"{klass.__name__}.{name}"
            found[label] = (label, declared, where(member))
    return sorted(found.values(), key=lambda item: item[0])


def refuse_declared_methods(app: Flask) -> None:
    """Refuse declarations on methods of ``app``'s class-based views.

    :param app: The application.
    :raises ConfigurationError: Some method is declared; the error names
        each, with its file and line.
    """
    methods = declared_methods(app)
    if not methods:
        return
    _, first, _ = methods[0]
    decorator = f"{first.kind.value}()"
    listed = ", ".join(f"{label} ({line})" for label, _, line in methods)
    raise ConfigurationError(
        decorator,
        f"declared on a method of a class-based view, where it is ignored:"
        f" {listed}; declare the class (@https.{decorator} on the class) or"
        f" put it in decorators = [https.{decorator}]",
    )


def _reachable(view: object) -> t.Iterator[object]:
    """``view`` and what it wraps, through ``__wrapped__``."""
    for _ in range(_DEPTH):
        if view is None:
            return
        yield view
        view = getattr(view, "__wrapped__", None)


def unrouted(app: Flask) -> list[types.FunctionType]:
    """Return the declared functions of ``app``'s modules that are no
    endpoint's view, in ``app`` or in any other application scanned.

    A function counts as a view when it, or a function with the same code
    (the same ``def`` run again, by an application factory), is a view or
    is reached from one through ``__wrapped__``. Declared methods of
    class-based views are refused on their own, so they are not listed.

    :param app: The application.
    """
    modules = {app.import_name}
    for view in app.view_functions.values():
        view_class = getattr(view, "view_class", None)
        modules.add(getattr(view_class or view, "__module__", None) or "")
    objects, codes = set(), set()
    for each in {app, *_apps}:
        for view in each.view_functions.values():
            for function in _reachable(view):
                objects.add(id(function))
                codes.add(getattr(function, "__code__", None))
        codes |= {getattr(m, "__code__", None) for _, _, m in _view_class_members(each)}
    return sorted(
        (
            function
            for function in declared_functions()
            if function.__module__ in modules
            and id(function) not in objects
            and function.__code__ not in codes
        ),
        key=where,
    )


def describe(function: types.FunctionType) -> str:
    """Return ``qualname (file:line)`` of a declared function.

    :param function: The function.
    """
    return f"{function.__qualname__} ({where(function)})"


def check(app: Flask) -> None:
    """Refuse declarations on methods; at the first request, also log the
    declared functions that are no endpoint's view.

    Routes and blueprints may still be added after ``init_app``, so those
    are only looked for once a request is being handled.

    :param app: The application.
    :raises ConfigurationError: Some method of a class-based view is
        declared.
    """
    _apps.add(app)
    refuse_declared_methods(app)
    if has_request_context():
        for function in unrouted(app):
            logger.warning(
                "%s: declared, but no endpoint's view; its declaration is"
                " ignored [%s] %s",
                describe(function),
                DECLARATION_NOT_A_VIEW,
                NOT_A_VIEW_HINT,
            )
