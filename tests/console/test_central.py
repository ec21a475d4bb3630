"""A central console: an app of its own over a settings store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from store.conftest import break_head

from flask_enforce_https.console import create_console_app
from flask_enforce_https.store import Store

from .helpers import HTTPS, PREFIX, apply, as_role, header_role, review

#: The shop's form, with both boxes ticked.
SCREENS_AND_COOKIES = {"force_https_screens": "on", "secure_cookies": "on"}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/settings.db"
    with Store(url) as store:
        store.init()
        store.apply({"applications": {"shop": {"secure_cookies": True}}}, 0, "t", "cli")
    return url


@pytest.fixture
def app(store_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The central console over the store."""
    app = create_console_app(
        store_url,
        authorize=header_role,
        secret_key="central console test key",
        config={"ENFORCE_HTTPS_SETTINGS_CACHE": str(tmp_path / "cache.json")},
    )
    yield app
    app.extensions["enforce_https"].source.close()


def test_a_central_console_changes_the_store(store_url: str, app: Flask) -> None:
    client = app.test_client()
    assert client.get("/", base_url=HTTPS).location == f"{PREFIX}/"
    overview = client.get(PREFIX + "/", base_url=HTTPS, headers=as_role("reader"))
    assert "revision 1" in overview.get_data(as_text=True)
    for page in ("/endpoints", "/explain"):
        response = client.get(PREFIX + page, base_url=HTTPS, headers=as_role("reader"))
        assert response.status_code == 404
    reviewed = review(client, "/applications/shop", SCREENS_AND_COOKIES)
    assert "shop.force_https_screens" in reviewed.get_data(as_text=True)
    applied = apply(client, "/applications/shop", reviewed, reason="central")
    assert applied.status_code == 303
    with Store(store_url) as store:
        head = store.head()
        assert head is not None
        assert (head.number, head.origin, head.reason) == (2, "console", "central")
        assert head.document["applications"]["shop"]["force_https_screens"] is True


def test_the_overview_reports_a_bad_head_and_an_apply_mends_it(
    store_url: str, app: Flask
) -> None:
    engine = sa.create_engine(store_url)
    try:
        break_head(engine, 2, "not json")
    finally:
        engine.dispose()
    client = app.test_client()
    overview = client.get(PREFIX + "/", base_url=HTTPS, headers=as_role("reader"))
    text = overview.get_data(as_text=True)
    assert "revision 2, is not valid" in text
    assert "Processes" in text
    reviewed = review(client, "/applications/shop", SCREENS_AND_COOKIES)
    applied = apply(client, "/applications/shop", reviewed, reason="mend")
    assert applied.status_code == 303, applied.get_data(as_text=True)
    with Store(store_url) as store:
        head = store.head()
        assert head is not None
        assert head.number == 3
        assert head.document == {
            "applications": {
                "shop": {"secure_cookies": True, "force_https_screens": True}
            }
        }
