"""The demo's ``orders`` application, mounted at ``/orders``: exposed
integrations only.

- ``POST /api/orders`` creates an order, ``GET /api/orders`` lists them and
  ``GET /api/orders/<id>`` returns one: REST, a web flow declared
  ``https.rest()``, so TLS; over plain HTTP, 403 ``application/problem+json``.
- ``POST /soap`` is a SOAP 1.1 service with one operation, ``GetOrderStatus``
  (WSDL at ``GET /soap?wsdl``): declared ``https.soap()``, level none, so it
  answers over HTTP too until an administrator sets
  ``force_https_integrations``; then plain HTTP gets 403 and a SOAP Fault.
- ``GET /partner/orders`` is for a partner with a client certificate:
  ``https.rest("tls-client-cert")``. It answers with the partner's name,
  found in :data:`PARTNERS` by the certificate's issuer and subject; without
  a valid certificate, or with one of no partner, 403 problem+json.

Integrations are never redirected: a client that sent a request in
cleartext has already leaked it, and most would not follow a redirect with
their body anyway. Orders are kept in memory, per process.
``flask --app example_app.orders https show`` lists every endpoint with its
level in force, and why.
"""

from __future__ import annotations

import itertools
import json
import threading
import typing as t
from dataclasses import asdict, dataclass

from cryptography import x509
from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from example_app import soap
from example_app.config import Instance, configure, prepare
from flask_enforce_https import EnforceHTTPS, client_certificate

#: The application's name in the settings file: ``[applications.orders]``.
APPLICATION = "orders"
MAX_ITEM_LENGTH = 200
MAX_QUANTITY = 1000
#: The partners, by the issuer and the subject of their client certificate
#: (as ``x509.Name.rfc4514_string()`` spells them), never by the common name
#: alone: any CA of ENFORCE_HTTPS_CLIENT_CA can issue a certificate with any
#: common name. The demo's client CA (:mod:`example_app.pki`) issued this one.
#: The default of the app's ``DEMO_PARTNERS`` config key.
PARTNERS = {
    ("CN=flask-enforce-https demo client CA", "CN=acme-logistics"): "acme-logistics",
}

https = EnforceHTTPS()

# Web flows of integrations: every view inside gets the blueprint's kind and
# level, unless it declares its own.
api = https.rest()(Blueprint("api", __name__, url_prefix="/api"))
partner = https.rest("tls-client-cert")(
    Blueprint("partner", __name__, url_prefix="/partner")
)
service = Blueprint("soap", __name__)


@dataclass
class Order:
    """One order."""

    id: int
    item: str
    quantity: int
    status: str = "received"


class OrderBook:
    """The orders, in memory; safe to use from the server's threads."""

    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, item: str, quantity: int) -> Order:
        """Record a new order and return it."""
        with self._lock:
            order = Order(next(self._ids), item, quantity)
            self._orders[order.id] = order
            return order

    def get(self, order_id: int) -> Order | None:
        """Return the order with this id, or ``None``."""
        with self._lock:
            return self._orders.get(order_id)

    def all(self) -> list[Order]:
        """Return every order, oldest first."""
        with self._lock:
            return list(self._orders.values())


def book() -> OrderBook:
    """Return the current application's orders."""
    return t.cast(OrderBook, current_app.extensions["demo_orders"])


def problem(status: int, title: str, detail: str) -> Response:
    """Return an RFC 9457 ``application/problem+json`` response.

    :param status: The HTTP status.
    :param title: A short summary of the problem type.
    :param detail: What went wrong with this request.
    """
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status, mimetype="application/problem+json")


def _http_problem(error: HTTPException) -> Response:
    # Every error of this app, routing ones (404, 405) included, in the
    # format its clients parse.
    return problem(error.code or 500, error.name, error.description or error.name)


@api.post("/orders")
def create_order() -> ResponseReturnValue:
    """Create an order from ``{"item": "teapot", "quantity": 2}``."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return problem(
            400,
            "Bad Request",
            'expected a JSON object such as {"item": "teapot", "quantity": 2}',
        )
    item, quantity = data.get("item"), data.get("quantity", 1)
    if not isinstance(item, str) or not 0 < len(item.strip()) <= MAX_ITEM_LENGTH:
        return problem(
            400,
            "Bad Request",
            f"item: expected a name of 1 to {MAX_ITEM_LENGTH} characters",
        )
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        return problem(
            400,
            "Bad Request",
            f"quantity: expected a whole number from 1 to {MAX_QUANTITY}",
        )
    order = book().add(item.strip(), quantity)
    location = url_for("api.get_order", order_id=order.id)
    return asdict(order), 201, {"Location": location}


@api.get("/orders")
def list_orders() -> ResponseReturnValue:
    """List every order."""
    return {"orders": [asdict(order) for order in book().all()]}


@api.get("/orders/<int:order_id>")
def get_order(order_id: int) -> ResponseReturnValue:
    """Return one order."""
    order = book().get(order_id)
    if order is None:
        return problem(404, "Not Found", f"there is no order {order_id}")
    return asdict(order)


def partner_of(cert: x509.Certificate) -> str | None:
    """Return the partner a verified certificate was issued to, or ``None``."""
    partners: dict[tuple[str, str], str] = current_app.config["DEMO_PARTNERS"]
    return partners.get((cert.issuer.rfc4514_string(), cert.subject.rfc4514_string()))


@partner.get("/orders")
def partner_orders() -> ResponseReturnValue:
    """The orders, for a partner that signs in with its client certificate."""
    cert = client_certificate()
    if cert is None:  # the extension lets no request in without one
        return problem(403, "Forbidden", "a client certificate is required")
    partner = partner_of(cert)
    if partner is None:
        return problem(403, "Forbidden", "this certificate is no partner's")
    return {
        "partner": partner,
        "orders": [asdict(order) for order in book().all()],
    }


@service.route("/soap", methods=["GET", "POST"])
@https.soap()
def soap_service() -> ResponseReturnValue:
    """The SOAP 1.1 service; ``GET ?wsdl`` returns its WSDL."""
    xml = f"{soap.CONTENT_TYPE}; charset=utf-8"
    if request.method == "GET":
        if "wsdl" not in {name.lower() for name in request.args}:
            return Response(
                "POST SOAP 1.1 requests here; the WSDL is at ?wsdl\n",
                400,
                mimetype="text/plain",
            )
        return Response(soap.wsdl(request.base_url), content_type=xml)
    try:
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            raise soap.Fault("Client", "the request is too large", 413) from None
        order_id = soap.parse_get_order_status(
            body, request.mimetype, request.headers.get("SOAPAction")
        )
    except soap.Fault as fault:
        return Response(fault.envelope(), fault.status, content_type=xml)
    order = book().get(order_id)
    if order is None:
        missing = soap.Fault("Client", f"there is no order {order_id}")
        return Response(missing.envelope(), missing.status, content_type=xml)
    return Response(
        soap.get_order_status_response(order.id, order.status), content_type=xml
    )


def create_app(instance: Instance | None = None) -> Flask:
    """Create the ``orders`` application.

    :param instance: The instance folder; prepared from the environment
        (see :mod:`example_app.config`) when ``None``.
    """
    instance = instance or prepare()
    app = Flask(__name__, instance_path=str(instance.folder), static_folder=None)
    # Requests are small: a SOAP envelope or an order.
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    configure(app, APPLICATION, instance)
    app.config.setdefault("DEMO_PARTNERS", PARTNERS)
    app.extensions["demo_orders"] = OrderBook()
    app.register_error_handler(HTTPException, _http_problem)
    app.register_blueprint(api)
    app.register_blueprint(partner)
    app.register_blueprint(service)
    https.init_app(app)
    return app


#: For ``flask --app example_app.orders https ...`` and the demo server.
app = create_app()
