"""The example application of flask-enforce-https.

Two Flask applications in one process, sharing one settings file:

- :mod:`example_app.storefront`, at ``/``: screens, and an ``/account/``
  web flow that needs TLS;
- :mod:`example_app.orders`, at ``/orders``: a REST API, a SOAP service and
  a partner API that needs a client certificate.

``python -m example_app`` (or ``make demo``) serves them over HTTP and
HTTPS (:mod:`example_app.serve`); ``flask --app example_app.storefront
https show`` and the other ``flask https`` commands inspect and change what
they enforce while they run.
"""

from __future__ import annotations
