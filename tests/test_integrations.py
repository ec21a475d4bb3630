"""Exposed integrations are refused over plain HTTP, never redirected."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_enforce_https import EnforceHTTPS

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPE11 = (
    f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><GetOrderStatus/></s:Body></s:Envelope>'
)
ENVELOPE12 = (
    f'<s:Envelope xmlns:s="{SOAP12}"><s:Body><GetOrderStatus/></s:Body></s:Envelope>'
)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_rest_gets_problem_json(client: FlaskClient, method: str) -> None:
    response = client.open("/api/orders", method=method, json={"item": 1})
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.data)
    assert problem["status"] == 403
    assert problem["title"] == "Forbidden"
    assert problem["type"] == "about:blank"
    assert "HTTPS" in problem["detail"]


def test_rest_over_https_is_served(client: FlaskClient) -> None:
    response = client.post("/api/orders", base_url="https://example.com")
    assert response.status_code == 200
    assert response.json == {"orders": []}


def test_soap11_fault(client: FlaskClient) -> None:
    response = client.post(
        "/soap",
        data=ENVELOPE11,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)  # noqa: S314 (our own response)
    assert root.tag == f"{{{SOAP11}}}Envelope"
    fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert "HTTPS" in (fault.findtext("faultstring") or "")


def test_soap12_fault(client: FlaskClient) -> None:
    response = client.post(
        "/soap",
        data=ENVELOPE12,
        headers={"Content-Type": 'application/soap+xml; charset=utf-8; action="x"'},
    )
    assert response.status_code == 403
    assert response.mimetype == "application/soap+xml"
    root = ET.fromstring(response.data)  # noqa: S314 (our own response)
    assert root.tag == f"{{{SOAP12}}}Envelope"
    ns = {"env": SOAP12}
    assert root.findtext("env:Body/env:Fault/env:Code/env:Value", namespaces=ns) == (
        "env:Sender"
    )
    text = root.findtext("env:Body/env:Fault/env:Reason/env:Text", namespaces=ns)
    assert text is not None
    assert "HTTPS" in text


def test_soap_without_content_type_gets_a_soap11_fault(client: FlaskClient) -> None:
    response = client.post("/soap")
    assert response.status_code == 403
    assert response.mimetype == "text/xml"


@pytest.mark.settings(
    {"environment": {"force_https_integrations": True, "force_https_screens": True}}
)
def test_forced_integrations_are_refused_not_redirected(client: FlaskClient) -> None:
    assert client.get("/api/status").status_code == 403
    assert client.post("/soap/open", data=ENVELOPE11).status_code == 403
    assert client.get("/").status_code == 301


def test_integration_with_open_level_is_served(client: FlaskClient) -> None:
    assert client.get("/api/status").json == {"status": "ok"}
    assert client.post("/soap/open", data=ENVELOPE11).status_code == 200


@pytest.mark.settings({"environment": {"force_https_screens": True}})
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("PATCH", "/api/orders", 403, id="rest-tls"),
        pytest.param("GET", "/soap", 403, id="soap-tls"),
        pytest.param("POST", "/api/status", 405, id="rest-none"),
        pytest.param("POST", "/", 308, id="screen"),
    ],
)
def test_wrong_method_on_an_integration_url_is_refused_not_redirected(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    # A 405 has no endpoint, but its URL is an endpoint's: the kind of that
    # endpoint decides, so an API is never redirected in cleartext.
    response = client.open(path, method=method)
    assert response.status_code == status
    if status != 308:
        assert "Location" not in response.headers


def test_api_url_without_its_trailing_slash_is_refused_not_redirected() -> None:
    # werkzeug matches GET "/api/v1" to the rule "/api/v1/" only through its
    # own slash redirect; the endpoint is still the API's. (A POST there is a
    # plain 404 to werkzeug: an unmatched URL, a screen.)
    from flask import Flask

    from flask_enforce_https import EnforceHTTPS

    app = Flask("slashes")
    app.config["ENFORCE_HTTPS_SETTINGS"] = {
        "environment": {"force_https_screens": True}
    }
    https = EnforceHTTPS(app)
    app.add_url_rule("/api/v1/", "v1", https.rest()(lambda: {"v": 1}))
    app.add_url_rule("/pages/", "pages", https.screen()(lambda: "pages"))
    client = app.test_client()
    assert client.get("/api/v1").status_code == 403
    page = client.get("/pages")
    assert page.status_code == 301
    assert page.headers["Location"] == "https://localhost/pages"


def test_host_werkzeug_cannot_route_is_a_400_not_a_redirect(
    client: FlaskClient,
) -> None:
    response = client.post("/soap", headers={"Host": "a..b"})
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("rule", "sent"),
    [
        pytest.param("/api/café/orders/", "/api/caf%C3%A9/orders", id="utf-8"),
        pytest.param("/api/a b/", "/api/a%20b", id="space"),
        pytest.param("/api/50%/", "/api/50%25", id="percent"),
        pytest.param("/api/ü/<int:n>/", "/api/%C3%BC/7", id="converter"),
    ],
)
def test_api_url_without_its_slash_is_refused_whatever_its_characters(
    rule: str, sent: str, method: str
) -> None:
    # werkzeug's slash redirect Location is percent-encoded; routing matches
    # decoded paths. A 308 to http:// would resend the body in cleartext.
    app = Flask("slashes")
    https = EnforceHTTPS(app)
    app.add_url_rule(rule, "api", https.rest()(lambda **_: {}), methods=["GET", "POST"])
    response = app.test_client().open(sent, method=method)
    assert response.status_code == 403
    assert "Location" not in response.headers


# Headers of every refusal ---------------------------------------------------

FORCED_SCREENS = {"environment": {"force_https_screens": True}}


@pytest.mark.parametrize(
    ("settings", "method", "path", "base_url", "headers", "status", "mimetype"),
    [
        pytest.param({}, "GET", "/api/orders", "http://localhost", {}, 403,
                     "application/problem+json", id="rest-403"),
        pytest.param({}, "POST", "/soap", "http://localhost",
                     {"Content-Type": "text/xml"}, 403, "text/xml", id="soap11-403"),
        pytest.param({}, "POST", "/soap", "http://localhost",
                     {"Content-Type": "application/soap+xml"}, 403,
                     "application/soap+xml", id="soap12-403"),
        pytest.param({}, "GET", "/partner", "https://localhost", {}, 403,
                     "application/problem+json", id="client-cert-403"),
        pytest.param(FORCED_SCREENS, "GET", "/", "http://localhost",
                     {"Host": "bad host"}, 400, "text/html", id="bad-host-400"),
    ],
)  # fmt: skip
def test_refusals_are_never_cached_nor_sniffed(
    client: FlaskClient,
    method: str,
    path: str,
    base_url: str,
    headers: dict[str, str],
    status: int,
    mimetype: str,
) -> None:
    # A client fixed, or settings relaxed, must be obeyed at once.
    response = client.open(path, method=method, base_url=base_url, headers=headers)
    assert (response.status_code, response.mimetype) == (status, mimetype)
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
