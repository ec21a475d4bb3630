"""Apps with the console mounted, and what the console tests share."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

from conftest import create_app
from flask import Flask, Request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flask_enforce_https.console.extension import Console

HTTPS = "https://localhost"
PREFIX = "/_https"
#: The header the tests' authorizer reads the role from.
ROLE_HEADER = "X-Test-Role"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def header_role(request: Request) -> t.Literal["editor", "reader"] | None:
    """An authorizer for the tests: the role the request says it has."""
    role = request.headers.get(ROLE_HEADER)
    return role if role in ("editor", "reader") else None  # type: ignore[return-value]


def role_user(request: Request) -> str:
    """The tests' user name: the role's."""
    return f"{request.headers.get(ROLE_HEADER)}-user"


def console_app(
    tmp_path: Path,
    text: str = "[environment]\n",
    authorize: t.Any = header_role,
    **config: t.Any,
) -> Flask:
    """The shop app with its settings in a TOML file (checked on every
    request) and the console mounted."""
    path = tmp_path / "settings.toml"
    path.write_text(text)
    config.setdefault("ENFORCE_HTTPS_RELOAD_INTERVAL", 0)
    config.setdefault("SECRET_KEY", "test secret key, long and random enough")
    config.setdefault("ENFORCE_HTTPS_HOST", "localhost")
    app = create_app(str(path), **config)
    Console(app, authorize=authorize, user=role_user)
    return app


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(response: TestResponse, index: int = 0) -> dict[str, str]:
    """The hidden fields of the page's ``index``-th form."""
    forms = response.get_data(as_text=True).split("<form")[1:]
    return dict(_HIDDEN.findall(forms[index]))


def as_role(role: str, **headers: str) -> dict[str, str]:
    """Request headers for ``role``."""
    return {ROLE_HEADER: role, **headers}


def review(
    client: FlaskClient, path: str, fields: dict[str, str], role: str = "editor"
) -> t.Any:
    """Load the form at ``path``, then post ``fields`` to review them."""
    page = client.get(PREFIX + path, base_url=HTTPS, headers=as_role(role))
    assert page.status_code == 200
    form = {**hidden_fields(page), **fields, "action": "review"}
    return client.post(
        PREFIX + path,
        base_url=HTTPS,
        data=form,
        headers=as_role(role, **SAME_ORIGIN),
    )


def apply(client: FlaskClient, path: str, reviewed: t.Any, **fields: str) -> t.Any:
    """Post the reviewed form's "Apply"."""
    form = {**hidden_fields(reviewed), **fields, "action": "apply"}
    return client.post(
        PREFIX + path,
        base_url=HTTPS,
        data=form,
        headers=as_role("editor", **SAME_ORIGIN),
    )
