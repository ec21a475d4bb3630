"""The PostgreSQL privileges of the two roles a farm needs.

The application role reads the revisions and the head and writes its own
heartbeats; the administrator role (``flask https set``, the console) also
appends revisions and audit rows and moves the head. Neither may create,
alter or drop a table, nor update or delete a revision or an audit row: the
tables belong to the role that ran ``flask https store init``.
"""

from __future__ import annotations

import re

from .schema import audit, head, heartbeats, meta, revisions

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _name(role: str) -> str:
    if not _ROLE.fullmatch(role):
        raise ValueError(
            f"role: expected one lowercase name of letters, digits and"
            f" underscores, got {role!r}"
        )
    return role


def grant_statements(
    app_role: str, admin_role: str, schema: str = "public"
) -> list[str]:
    """The ``GRANT`` statements that give each role what it needs, and no
    more.

    :param app_role: The role the applications connect as.
    :param admin_role: The role administrators' tools connect as.
    :param schema: The PostgreSQL schema of the tables.
    :raises ValueError: A name is not a plain lowercase identifier.
    """
    app, admin, schema = _name(app_role), _name(admin_role), _name(schema)

    def on(*names: str) -> str:
        return ", ".join(f"{schema}.{n}" for n in names)

    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {app}, {admin};",
        # The application: checks the schema version, reads what is in
        # force, and upserts (and prunes) heartbeats.
        f"GRANT SELECT ON {on(meta.name, head.name, revisions.name)} TO {app};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {on(heartbeats.name)} TO {app};",
        # The administrator: what the application may, and writes
        # revisions, their audit rows and the head.
        f"GRANT SELECT ON {on(meta.name, heartbeats.name)} TO {admin};",
        f"GRANT SELECT, INSERT ON {on(revisions.name, audit.name)} TO {admin};",
        f"GRANT SELECT, UPDATE ON {on(head.name)} TO {admin};",
    ]
