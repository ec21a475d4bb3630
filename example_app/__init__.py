"""Example storefront app for flask-enforce-https.

A stub for now: one public screen. Run it with ``make demo`` or
``python -m example_app``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from flask_enforce_https import EnforceHTTPS

HOME_PAGE = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Storefront</title></head>
  <body>
    <h1>Storefront</h1>
    <p>This screen may be served over HTTP or HTTPS.</p>
  </body>
</html>
"""


def create_app() -> Flask:
    """Create the example ``storefront`` application."""
    here = Path(__file__).resolve().parent
    # Named "storefront" (the application name administrators use in
    # ``applications.<name>``); the paths are given explicitly because no
    # module of that name exists to derive them from.
    app = Flask(
        "storefront",
        root_path=str(here),
        instance_path=str(here / "instance"),
    )
    https = EnforceHTTPS(app)

    @app.get("/")
    @https.screen()
    def home() -> str:
        return HOME_PAGE

    return app
