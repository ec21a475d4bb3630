"""A settings store that a farm of hosts shares: SQLite for one host,
PostgreSQL for many.

Append-only revisions of the whole settings document, a head that moves by
compare-and-swap, one audit row per changed key, and each process's
heartbeat. See :doc:`/store`. Needs the ``store`` extra:
``pip install 'flask-enforce-https[store]'``.
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401 (only to say what is missing)
except ImportError:  # pragma: no cover (the tests install the extra)
    raise ImportError(
        "the settings store needs SQLAlchemy and psycopg: pip install"
        " 'flask-enforce-https[store]'"
    ) from None

from .errors import (
    ConflictError,
    MalformedRevisionError,
    RevisionNotFoundError,
    SchemaError,
    StoreError,
    StoreURLError,
)
from .heartbeats import EXPIRE_AFTER, HEARTBEAT_PERIOD
from .records import HistoryEntry, ProcessStatus, Revision, Status
from .revisions import NOTIFY_CHANNEL, notify_payload
from .roles import grant_statements
from .schema import ORIGINS, SCHEMA_VERSION
from .store import Store
from .urls import StoreURL, hide_password, is_store_url, parse_url

__all__ = [
    "EXPIRE_AFTER",
    "HEARTBEAT_PERIOD",
    "NOTIFY_CHANNEL",
    "ORIGINS",
    "SCHEMA_VERSION",
    "ConflictError",
    "HistoryEntry",
    "MalformedRevisionError",
    "ProcessStatus",
    "Revision",
    "RevisionNotFoundError",
    "SchemaError",
    "Status",
    "Store",
    "StoreError",
    "StoreURL",
    "StoreURLError",
    "grant_statements",
    "hide_password",
    "is_store_url",
    "notify_payload",
    "parse_url",
]
