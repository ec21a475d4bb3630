"""WSGI entry of the farm tests: one application whose settings come from a
store, for gunicorn.

``gunicorn --pythonpath <repo>/tests farm_app:app`` serves a storefront with
one screen (``/``) and one REST endpoint (``/api/orders``); each gunicorn
master of a test stands for one host of a farm, all reading the same store.
Every response says which worker made it and what that worker enforces:

====================  =======================================================
``X-Farm-Host``       the host the master stands for (``FARM_HOST``)
``X-Worker-Pid``      the worker's pid
``X-Revision``        the store revision the worker has in force
``X-Applied-At``      when the worker applied it (epoch seconds, its own
                      clock), so that propagation is measured per worker and
                      not by when a client happened to ask
====================  =======================================================

``/state`` answers with those headers only; the settings the tests write
exempt it, so it answers 200 whatever they force.

It reads its configuration from the environment:

==========================  =================================================
``FARM_STORE``              the store URL (``ENFORCE_HTTPS_SETTINGS``)
``FARM_HOST``               the host name it stands for
``FARM_INSTANCE``           its instance folder (the settings cache)
``FARM_RELOAD_INTERVAL``    ``ENFORCE_HTTPS_RELOAD_INTERVAL`` (default 1)
``FARM_LISTEN``             ``0`` turns LISTEN/NOTIFY off
                            (``ENFORCE_HTTPS_STORE_LISTEN``)
==========================  =================================================
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Response

from flask_enforce_https import EnforceHTTPS

#: The application's name in the store.
APPLICATION = "storefront"

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s [%(process)d] [%(name)s] %(levelname)s: %(message)s",
)


def create_app() -> Flask:
    """The storefront of one farm host, configured from the environment."""
    app = Flask(__name__, instance_path=os.environ.get("FARM_INSTANCE"))
    app.config.update(
        ENFORCE_HTTPS_SETTINGS=os.environ["FARM_STORE"],
        ENFORCE_HTTPS_APPLICATION=APPLICATION,
        ENFORCE_HTTPS_RELOAD_INTERVAL=float(
            os.environ.get("FARM_RELOAD_INTERVAL", "1")
        ),
        ENFORCE_HTTPS_STORE_LISTEN=os.environ.get("FARM_LISTEN", "1") != "0",
    )
    host = os.environ.get("FARM_HOST", "farm")
    https = EnforceHTTPS()

    @app.get("/")
    def home() -> str:
        return "storefront"

    @app.get("/api/orders")
    @https.rest("none")
    def orders() -> dict[str, list[int]]:
        return {"orders": []}

    @app.get("/state")
    def state() -> str:
        return "ok"

    https.init_app(app)

    @app.after_request
    def report(response: Response) -> Response:
        # The source's own record of what this worker applied, and when:
        # no public API gives a worker's apply time, which is what the
        # farm test measures.
        source = app.extensions["enforce_https"].source
        response.headers["X-Farm-Host"] = host
        response.headers["X-Worker-Pid"] = str(os.getpid())
        response.headers["X-Revision"] = str(source.revision)
        response.headers["X-Applied-At"] = repr(source.applied_at)
        return response

    return app


app = create_app()
