"""The demo's partner endpoint tells partners apart by the issuer and the
subject of their certificate, not by its common name: any CA of
``ENFORCE_HTTPS_CLIENT_CA`` can issue a certificate with any common name.
And the demo's secrets are made once per instance folder.

The ``orders`` application is built in-process on a temporary instance
folder, whose client CA bundle gets a second, unrelated CA.
"""

from __future__ import annotations

import importlib
import types
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from pki import CA

from example_app import config, pki

HTTPS = "https://127.0.0.1"
PATH = "/partner/orders"


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    """:mod:`example_app.orders`, imported with its module-level app in a
    temporary instance folder rather than the checkout's."""
    folder = tmp_path_factory.mktemp("demo-instance")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEMO_INSTANCE", str(folder))
        return importlib.import_module("example_app.orders")


@pytest.fixture(scope="module")
def other_ca() -> CA:
    """Another CA the bundle trusts, for other clients."""
    return CA("Another Trusted Client CA")


@pytest.fixture
def instance(tmp_path: Path, other_ca: CA) -> config.Instance:
    prepared = config.prepare(tmp_path)
    with prepared.files.client_ca.open("ab") as bundle:
        bundle.write(other_ca.pem())
    return prepared


@pytest.fixture
def app(orders: types.ModuleType, instance: config.Instance) -> Flask:
    return t.cast(Flask, orders.create_app(instance))


def get(app: Flask, pem: str) -> t.Any:
    return app.test_client().get(
        PATH, base_url=HTTPS, environ_base={"SSL_CLIENT_CERT": pem}
    )


def test_the_partner_is_served(app: Flask, instance: config.Instance) -> None:
    response = get(app, instance.files.partner_cert.read_text())
    assert response.status_code == 200, response.data
    assert response.json["partner"] == pki.PARTNER_NAME


def test_partner_common_name_from_another_ca_is_refused(
    app: Flask, other_ca: CA
) -> None:
    impostor = other_ca.issue(pki.PARTNER_NAME, usage="client", san=False)
    response = get(app, impostor.cert_pem().decode("ascii"))
    assert response.status_code == 403, response.data
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "this certificate is no partner's"


def test_the_secrets_are_made_once_and_kept(tmp_path: Path) -> None:
    first = config.prepare(tmp_path)
    assert "the storefront's SECRET_KEY and the console's admin password" in (
        first.created
    )
    again = config.prepare(tmp_path)
    assert again.created == ()
    assert (again.secret_key, again.console_password) == (
        first.secret_key,
        first.console_password,
    )
    assert len(first.secret_key) >= 40
    assert first.secret_key != first.console_password
    for name in ("secret-key", "console-password"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_only_a_missing_secret_is_made_again(tmp_path: Path) -> None:
    first = config.prepare(tmp_path)
    (tmp_path / "console-password").unlink()
    again = config.prepare(tmp_path)
    assert again.created == ("the console's admin password",)
    assert again.secret_key == first.secret_key
    assert again.console_password != first.console_password


def test_an_empty_secret_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "secret-key").write_text("\n")
    with pytest.raises(config.DemoConfigError) as caught:
        config.prepare(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'secret-key'} is empty: delete it to get a new one"
    )
