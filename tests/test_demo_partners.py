"""The demo's partner endpoint tells partners apart by the issuer and the
subject of their certificate, not by its common name: any CA of
``ENFORCE_HTTPS_CLIENT_CA`` can issue a certificate with any common name.

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
