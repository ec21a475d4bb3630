"""Settings documents (the ``environment`` and ``applications`` tables a
file holds) compared and changed key by key.

A change has the shape ``flask https set`` audits
(:class:`~flask_enforce_https.edits.Change`): a scope (``"environment"`` or
an application's name), a key, and the values as the administrator wrote
them, ``None`` where a key is unset. So every history reads alike.
"""

from __future__ import annotations

import copy
import json
import typing as t
from collections.abc import Mapping

from .edits import Change

Document = Mapping[str, t.Any]


def _same(a: object, b: object) -> bool:
    # As JSON has them: Python finds 1 == True and 1 == 1.0, JSON does not.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _diff(
    scope: str, was: Mapping[str, t.Any], now: Mapping[str, t.Any]
) -> list[Change]:
    return [
        Change(scope, key, was.get(key), now.get(key))
        for key in sorted({*was, *now})
        if not _same(was.get(key), now.get(key))
    ]


def document_changes(old: Document, new: Document) -> list[Change]:
    """List the keys whose value differs between two documents.

    The environment comes first, then applications by name, keys sorted.

    :param old: The document in force, as JSON gives it back.
    :param new: The document to apply, as JSON gives it back.
    """
    changes = _diff(
        "environment", old.get("environment", {}), new.get("environment", {})
    )
    before, after = old.get("applications", {}), new.get("applications", {})
    for name in sorted({*before, *after}):
        changes += _diff(name, before.get(name, {}), after.get(name, {}))
    return changes


def with_values(
    document: Document, scope: str, values: Mapping[str, object]
) -> dict[str, t.Any]:
    """A copy of ``document`` with ``values`` set in ``scope``: ``None``
    unsets a key, and a table left empty is dropped.

    :param document: The document.
    :param scope: ``"environment"`` or an application's name.
    :param values: The new values by key.
    """
    changed = copy.deepcopy(dict(document))
    if scope == "environment":
        section = changed.setdefault("environment", {})
    else:
        section = changed.setdefault("applications", {}).setdefault(scope, {})
    for key, value in values.items():
        if value is None:
            section.pop(key, None)
        else:
            section[key] = value
    if scope != "environment" and not section:
        del changed["applications"][scope]
    for name in ("environment", "applications"):
        if name in changed and not changed[name]:
            del changed[name]
    return changed
