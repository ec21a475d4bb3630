"""``python -m example_app``: serve the demo (see :mod:`example_app.serve`)."""

from __future__ import annotations

from example_app.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
