"""Design-time and administrator-enforced HTTPS for Flask.

Developers declare the HTTP security of each screen and exposed integration;
administrators tighten it for the environment or one application; every
request is redirected, refused or served accordingly.
"""

from __future__ import annotations

from . import signals
from .client_certs import client_certificate
from .declarations import Kind
from .errors import ConfigurationError, EnforceHTTPSError, SettingsError
from .extension import EnforceHTTPS
from .levels import HttpSecurity, Level
from .policy import Policy
from .refusals import ClientCertificateRequired, HTTPSRequired, UntrustedHost
from .settings import Settings

#: The package's version: the one source, read by setup.cfg and the docs.
__version__ = "0.1.0.dev0"

__all__ = [
    "ClientCertificateRequired",
    "ConfigurationError",
    "EnforceHTTPS",
    "EnforceHTTPSError",
    "HTTPSRequired",
    "HttpSecurity",
    "Kind",
    "Level",
    "Policy",
    "Settings",
    "SettingsError",
    "UntrustedHost",
    "client_certificate",
    "signals",
]
