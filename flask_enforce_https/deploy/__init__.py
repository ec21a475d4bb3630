"""Deploy checks over the effective settings: combinations that work in
development and fail in production.

Each check is a small function registered for one finding id (see
:mod:`.registry`); importing this package registers them all, in the order
``flask https check`` reports them.
"""

from __future__ import annotations

from . import (  # noqa: F401
    application,
    cookies,
    declared,
    exempt,
    handlers,
    hosts,
    hsts,
    proxies,
)
from .registry import Context, DeployCheck, deploy_findings, register, registered

__all__ = ["Context", "DeployCheck", "deploy_findings", "register", "registered"]
