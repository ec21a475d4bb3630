"""client_certificate_auth, through the extension's real verification of
real certificates (tests/pki.py); and any callable as an authorizer."""

from __future__ import annotations

import functools
import http.client
import ssl
import typing as t
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import serving_tls
from flask import Request, session
from pki import CA, Issued
from pki import test_ca as session_ca

from flask_enforce_https import ConfigurationError
from flask_enforce_https.console.auth import (
    ClientCertificateAuth,
    client_certificate_auth,
)

from .conftest import BEHIND_PROXY, CONSOLE, PROXY, create_console_app

ROOT_ISSUER = "CN=Test Client CA"


@functools.cache
def intermediate() -> CA:
    return CA("Console Intermediate CA", parent=session_ca())


@functools.cache
def other_ca() -> CA:
    return CA("Untrusted CA")


_CERTIFICATES: dict[str, t.Callable[[], Issued]] = {
    "alice": lambda: session_ca().issue("alice", usage="client"),
    "bob": lambda: session_ca().issue("bob", usage="client"),
    "carol": lambda: session_ca().issue("carol", usage="client"),
    "alice-from-intermediate": lambda: intermediate().issue("alice", usage="client"),
    "alice-from-untrusted-ca": lambda: other_ca().issue("alice", usage="client"),
}


@functools.cache
def certificate(which: str) -> str:
    return _CERTIFICATES[which]().cert_pem().decode("ascii")


def ask(authorize: t.Any, **kwargs: t.Any) -> tuple[int, str]:
    app = create_console_app(authorize, **kwargs.pop("app", {}))
    response = app.test_client().get("/_https/role", **kwargs)
    return response.status_code, response.get_data(as_text=True)


def direct(which: str) -> dict[str, t.Any]:
    """As a WSGI server that did the TLS handshake presents it."""
    return {
        "base_url": CONSOLE,
        "environ_base": {"SSL_CLIENT_CERT": certificate(which)},
    }


def via_proxy(
    which: str, peer: str = PROXY, base_url: str = "http://console.example"
) -> dict[str, t.Any]:
    """As nginx passes it, from ``peer``."""
    return {
        "base_url": base_url,
        "headers": {
            "X-SSL-Client-Cert": quote(certificate(which)),
            "X-Forwarded-Proto": "https",
        },
        "environ_base": {"REMOTE_ADDR": peer},
        "app": {"settings": BEHIND_PROXY},
    }


AUTHORIZE = client_certificate_auth(
    editors=["CN=alice"], readers=[(ROOT_ISSUER, "CN=bob")]
)


@pytest.mark.parametrize(
    ("request_options", "status", "body"),
    [
        pytest.param(direct("alice"), 200, "editor", id="editor-by-subject"),
        pytest.param(direct("bob"), 200, "reader", id="reader-by-issuer-and-subject"),
        pytest.param(direct("carol"), 401, "nobody", id="verified-but-no-user"),
        pytest.param(
            direct("alice-from-intermediate"),
            200,
            "editor",
            id="a-subject-alone-from-any-ca-of-the-bundle",
        ),
        pytest.param(via_proxy("alice"), 200, "editor", id="from-a-trusted-proxy"),
    ],
)
def test_verified_certificates(
    request_options: dict[str, t.Any], status: int, body: str
) -> None:
    assert ask(AUTHORIZE, **request_options) == (status, body)


@pytest.mark.parametrize(
    "request_options",
    [
        pytest.param({"base_url": CONSOLE}, id="no-certificate"),
        pytest.param(direct("alice-from-untrusted-ca"), id="untrusted-ca"),
        pytest.param(
            via_proxy("alice", peer="192.0.2.66", base_url=CONSOLE),
            id="header-from-an-untrusted-peer-over-https",
        ),
    ],
)
def test_the_extension_refuses_before_the_authorizer_runs(
    request_options: dict[str, t.Any],
) -> None:
    status, body = ask(AUTHORIZE, **request_options)
    assert status == 403
    assert "nobody" not in body


def test_an_issuer_and_subject_pair_names_one_ca() -> None:
    """The pair (root, CN=alice) does not let in a CN=alice certificate
    from the intermediate, which any subject may come from."""
    authorize = client_certificate_auth(editors=[(ROOT_ISSUER, "CN=alice")])
    assert ask(authorize, **direct("alice")) == (200, "editor")
    assert ask(authorize, **direct("alice-from-intermediate")) == (401, "nobody")


def test_below_tls_client_cert_no_certificate_is_read() -> None:
    """On a page at ``tls`` the extension verifies nothing: what the server
    or a header says is never read by the authorizer."""
    assert ask(AUTHORIZE, app={"level": "tls"}, **direct("alice")) == (401, "nobody")


def test_the_console_declares_its_pages_at_tls_client_cert() -> None:
    assert isinstance(AUTHORIZE, ClientCertificateAuth)
    assert AUTHORIZE.level == "tls-client-cert"
    assert not hasattr(AUTHORIZE, "challenge")
    assert repr(AUTHORIZE) == "<ClientCertificateAuth users=2>"


@pytest.mark.parametrize(
    ("editors", "readers", "message"),
    [
        pytest.param(
            ["alice"], (), "entry 'alice': is not an RFC 4514 name", id="cn-alone"
        ),
        pytest.param(
            ["CN=alice, O=Example"],
            (),
            "no space after the commas",
            id="space-after-comma",
        ),
        pytest.param([""], (), "is not an RFC 4514 name", id="empty-subject"),
        pytest.param([("CN=x",)], (), "is not an RFC 4514 name", id="one-tuple"),
        pytest.param(
            [("alice", "CN=alice")], (), "is not an RFC 4514 name", id="issuer-cn-alone"
        ),
        pytest.param(
            ["CN=alice"], ["CN=alice"], "is named twice", id="editor-and-reader"
        ),
        pytest.param("CN=alice", (), "is one string", id="a-string-not-a-list"),
        pytest.param([], [], "has no user", id="no-user"),
    ],
)
def test_refused_when_made(editors: t.Any, readers: t.Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        client_certificate_auth(editors, readers)


# -- any callable --------------------------------------------------------------


def admins_only(request: Request) -> str | None:
    """The shape a Flask-Login app passes (``current_user.is_admin``), with
    the session standing in for Flask-Login."""
    return "editor" if session.get("is_admin") else None


@pytest.mark.parametrize(
    ("is_admin", "status", "body"),
    [
        pytest.param(True, 200, "editor", id="admin"),
        pytest.param(False, 401, "nobody", id="not-admin"),
    ],
)
def test_a_plain_function_is_an_authorizer(
    is_admin: bool, status: int, body: str
) -> None:
    app = create_console_app(admins_only)
    client = app.test_client()
    with client.session_transaction(base_url=CONSOLE) as stored:
        stored["is_admin"] = is_admin
    response = client.get("/_https/role", base_url=CONSOLE)
    assert (response.status_code, response.get_data(as_text=True)) == (status, body)
    # Without a challenge attribute the console sends no WWW-Authenticate.
    assert "WWW-Authenticate" not in response.headers


# -- a real TLS handshake ------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        pytest.param("alice", 200, "editor", id="editor"),
        pytest.param("carol", 401, "nobody", id="verified-but-no-user"),
        pytest.param(None, 403, None, id="no-certificate"),
    ],
)
def test_over_a_real_tls_handshake(
    tmp_path: Path, who: str | None, status: int, body: str | None
) -> None:
    """werkzeug's server asks for a client certificate and puts it in
    SSL_CLIENT_CERT; the extension verifies it; the authorizer reads it."""
    app = create_console_app(AUTHORIZE)
    server_ca = CA("Console Server CA")
    cert, key = server_ca.issue("127.0.0.1", usage="server").write(tmp_path, "server")
    client_ca = session_ca().pem().decode("ascii")
    context = ssl.create_default_context(cadata=server_ca.pem().decode("ascii"))
    if who is not None:
        context.load_cert_chain(*_CERTIFICATES[who]().write(tmp_path, who))
    with serving_tls(app, cert, key, client_ca=client_ca) as port:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, context=context, timeout=10
        )
        try:
            connection.request("GET", "/_https/role")
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
    assert response.status == status, text
    if body is not None:
        assert text == body
