"""Sphinx configuration for the flask-enforce-https documentation.

The build must work offline, so no intersphinx: references to third-party
types are silenced through ``nitpick_ignore_regex`` instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Let autodoc import the package from the source tree even when it is not
# installed (``make docs`` installs it in editable mode anyway).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_enforce_https import __version__

project = "flask-enforce-https"
author = "flask-enforce-https contributors"
copyright = "flask-enforce-https contributors"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
]

exclude_patterns = ["_build"]
root_doc = "index"

autodoc_typehints = "description"
autodoc_member_order = "bysource"

# ``sphinx-build -n`` turns unresolved references into warnings (and ``-W``
# into errors).  Without intersphinx, third-party types cannot resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"flask(\..*)?"),
    (r"py:.*", r"werkzeug(\..*)?"),
    (r"py:.*", r"blinker(\..*)?"),
    (r"py:.*", r"cryptography(\..*)?"),
    (r"py:.*", r"t\..*"),
    (r"py:.*", r"typing(\..*)?"),
    (r"py:.*", r"collections\.abc(\..*)?"),
    (r"py:.*", r"ipaddress\..*"),
    (r"py:.*", r"pathlib(\..*)?"),
    (r"py:.*", r"datetime(\..*)?"),
    (r"py:.*", r"weakref(\..*)?"),
    # Annotations autodoc shows unqualified.
    (r"py:class", r"(.*\.)?(Flask|Request|Response|Target|Locator|Network)"),
    (r"py:class", r"(.*\.)?(Path|WSGIEnvironment|WSGIApplication|StartResponse)"),
    # The console's type aliases and authorizer classes, which console.rst
    # describes in prose, and the helper its basic_auth names.
    (r"py:class", r"(.*\.)?(Authorize|UserName|BasicAuth|ClientCertificateAuth)"),
    (r"py:func", r"(.*\.)?client_address"),
    # writers.AppState: the protocol writer_for takes, the extension's state.
    (r"py:class", r"flask_enforce_https\.writers\.AppState"),
    # The store's Python API is described in prose in store.rst.
    (r"py:class", r"(.*\.)?Store"),
]

html_theme = "furo"
html_title = "flask-enforce-https"
