"""What a new settings document changes, key by key, for the audit rows.

The changes have the shape ``flask https set`` audits for a file
(:class:`~flask_enforce_https.edits.Change`): a scope (``"environment"`` or an
application's name), a key, and the values as the administrator wrote them,
``None`` where a key is unset. So a store's history and a file's read alike.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping

from ..edits import Change

Document = Mapping[str, t.Any]


def canonical_json(document: Document) -> str:
    """Write a settings document as the store keeps it: JSON, keys sorted.

    :param document: A settings document, valid already.
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _diff(
    scope: str, was: Mapping[str, t.Any], now: Mapping[str, t.Any]
) -> list[Change]:
    return [
        Change(scope, key, was.get(key), now.get(key))
        for key in sorted({*was, *now})
        if was.get(key) != now.get(key)
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
