"""A small, real SOAP 1.1 service: the envelopes of its one operation,
``GetOrderStatus``, its faults and its WSDL.

Requests are parsed with :mod:`xml.etree.ElementTree`, after refusing any
document with a ``DOCTYPE`` (and so any entity declaration): without one,
there are no external entities to fetch and no entities to expand. The
body is decoded as UTF-8 and parsed as text, so an encoding declared in
the document cannot hide a ``DOCTYPE`` from that check.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

#: The SOAP 1.1 envelope namespace.
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
#: The service's namespace.
NAMESPACE = "urn:flask-enforce-https-demo:orders"
SOAP_ACTION = f"{NAMESPACE}#GetOrderStatus"
#: SOAP 1.1 over HTTP is sent as text/xml.
CONTENT_TYPE = "text/xml"

_RESPONSE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{envelope}" xmlns:o="{namespace}">
  <soap:Body>
    <o:GetOrderStatusResponse>
      <o:orderId>{order_id}</o:orderId>
      <o:status>{status}</o:status>
    </o:GetOrderStatusResponse>
  </soap:Body>
</soap:Envelope>
"""

_FAULT = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{envelope}">
  <soap:Body>
    <soap:Fault>
      <faultcode>soap:{code}</faultcode>
      <faultstring>{text}</faultstring>
    </soap:Fault>
  </soap:Body>
</soap:Envelope>
"""

_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{envelope}" xmlns:o="{namespace}">
  <soap:Body>
    <o:GetOrderStatus>
      <o:orderId>{order_id}</o:orderId>
    </o:GetOrderStatus>
  </soap:Body>
</soap:Envelope>
"""

_WSDL = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="Orders" targetNamespace="{namespace}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{namespace}">
  <wsdl:types>
    <xsd:schema targetNamespace="{namespace}" elementFormDefault="qualified">
      <xsd:element name="GetOrderStatus">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="orderId" type="xsd:positiveInteger"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="GetOrderStatusResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="orderId" type="xsd:positiveInteger"/>
            <xsd:element name="status" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="GetOrderStatusInput">
    <wsdl:part name="parameters" element="tns:GetOrderStatus"/>
  </wsdl:message>
  <wsdl:message name="GetOrderStatusOutput">
    <wsdl:part name="parameters" element="tns:GetOrderStatusResponse"/>
  </wsdl:message>
  <wsdl:portType name="OrdersPortType">
    <wsdl:operation name="GetOrderStatus">
      <wsdl:input message="tns:GetOrderStatusInput"/>
      <wsdl:output message="tns:GetOrderStatusOutput"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="OrdersBinding" type="tns:OrdersPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetOrderStatus">
      <soap:operation soapAction="{action}"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="Orders">
    <wsdl:port name="OrdersPort" binding="tns:OrdersBinding">
      <soap:address location={location}/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""


class Fault(Exception):
    """A SOAP 1.1 Fault: the request cannot be answered.

    SOAP 1.1 over HTTP sends every fault with status 500, unless the
    request was not SOAP at all.

    :param code: ``Client`` (the request is wrong), ``Server``,
        ``VersionMismatch`` or ``MustUnderstand``.
    :param text: What is wrong, for the ``faultstring``.
    :param status: The HTTP status.
    """

    def __init__(self, code: str, text: str, status: int = 500) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status

    def envelope(self) -> str:
        """Return the Fault envelope."""
        return _FAULT.format(envelope=ENVELOPE, code=self.code, text=escape(self.text))


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _parse(body: bytes) -> ET.Element:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Fault("Client", "the request is not UTF-8 text") from None
    if "<!DOCTYPE" in text.upper():
        raise Fault("Client", "DOCTYPE and entity declarations are not accepted")
    try:
        # Parsed as text: expat reads it as the UTF-8 checked above, whatever
        # encoding the XML declaration names.
        return ET.fromstring(text)  # noqa: S314 (no DOCTYPE, checked above)
    except ET.ParseError as e:
        raise Fault("Client", f"the request is not well-formed XML: {e}") from None


def parse_get_order_status(body: bytes, content_type: str, action: str | None) -> int:
    """Return the order id of a ``GetOrderStatus`` request.

    :param body: The request body.
    :param content_type: Its media type, without parameters.
    :param action: The ``SOAPAction`` header, or ``None`` when absent.
    :raises Fault: The request is not a valid ``GetOrderStatus`` call.
    """
    if content_type != CONTENT_TYPE:
        raise Fault(
            "Client",
            f"expected a SOAP 1.1 request (Content-Type: {CONTENT_TYPE}),"
            f" got {content_type or 'no Content-Type'}",
            415,
        )
    if action is not None and action.strip().strip('"') not in ("", SOAP_ACTION):
        raise Fault("Client", f"unknown SOAPAction {action}; expected {SOAP_ACTION}")
    root = _parse(body)
    if root.tag != _tag(ENVELOPE, "Envelope"):
        if root.tag.endswith("}Envelope"):
            raise Fault("VersionMismatch", "this service speaks SOAP 1.1 only")
        raise Fault("Client", "the request is not a SOAP envelope")
    header = root.find(_tag(ENVELOPE, "Header"))
    for entry in [] if header is None else list(header):
        if entry.get(_tag(ENVELOPE, "mustUnderstand")) == "1":
            raise Fault("MustUnderstand", f"header {entry.tag} is not understood")
    soap_body = root.find(_tag(ENVELOPE, "Body"))
    if soap_body is None or len(soap_body) != 1:
        raise Fault("Client", "expected one operation in soap:Body")
    operation = soap_body[0]
    if operation.tag != _tag(NAMESPACE, "GetOrderStatus"):
        raise Fault(
            "Client",
            f"unknown operation {operation.tag}; this service has"
            f" {{{NAMESPACE}}}GetOrderStatus",
        )
    order_id = (operation.findtext(_tag(NAMESPACE, "orderId")) or "").strip()
    if not (order_id.isascii() and order_id.isdigit() and 0 < int(order_id) < 2**63):
        raise Fault("Client", f"orderId: expected a positive integer, got {order_id!r}")
    return int(order_id)


def get_order_status_response(order_id: int, status: str) -> str:
    """Return the response envelope of ``GetOrderStatus``.

    :param order_id: The order.
    :param status: Its status.
    """
    return _RESPONSE.format(
        envelope=ENVELOPE, namespace=NAMESPACE, order_id=order_id, status=escape(status)
    )


def get_order_status_request(order_id: int) -> str:
    """Return a ``GetOrderStatus`` request envelope, for examples and tests.

    :param order_id: The order to ask about.
    """
    return _REQUEST.format(envelope=ENVELOPE, namespace=NAMESPACE, order_id=order_id)


def wsdl(location: str) -> str:
    """Return the service's WSDL 1.1 description.

    :param location: The service's URL, for ``soap:address``.
    """
    return _WSDL.format(
        namespace=NAMESPACE, action=SOAP_ACTION, location=quoteattr(location)
    )
