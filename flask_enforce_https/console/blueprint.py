"""The console's pages as a blueprint: one per app it is mounted in."""

from __future__ import annotations

from flask import Blueprint

from . import guard, pages, settings_pages


def make_blueprint() -> Blueprint:
    """The console's pages, as a new blueprint (one per app)."""
    blueprint = Blueprint(
        "enforce_https_console",
        __name__,
        template_folder="templates",
        static_folder="static",
    )
    guard.install(blueprint)
    pages.register(blueprint)
    settings_pages.register(blueprint)
    return blueprint
