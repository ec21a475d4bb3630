"""Serve the example app: ``python -m example_app``.

``HOST`` (default ``127.0.0.1``) and ``PORT`` (default ``8080``) choose where
it listens.
"""

from __future__ import annotations

import os

from example_app import create_app


def main() -> None:
    """Run the example app with Flask's development server."""
    app = create_app()
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8080")),
    )


if __name__ == "__main__":
    main()
