"""How the store keeps a document, and what a new one changes, key by key,
for the audit rows (see :mod:`flask_enforce_https.documents`)."""

from __future__ import annotations

import json

from ..documents import Document as Document
from ..documents import document_changes as document_changes


def canonical_json(document: Document) -> str:
    """Write a settings document as the store keeps it: JSON, keys sorted.

    :param document: A settings document, valid already.
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
