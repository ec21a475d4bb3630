"""Deploy checks of the application's own settings: its name in them, and
the client CA its endpoints need."""

from __future__ import annotations

from ..levels import HttpSecurity
from .registry import Context, register

SETTINGS_OTHER_APPLICATION = "settings-other-application"
CLIENT_CA_MISSING = "client-ca-missing"


@register(
    SETTINGS_OTHER_APPLICATION,
    "warning",
    "Fix the name in [applications.<name>], or set ENFORCE_HTTPS_APPLICATION.",
)
def other_application(context: Context) -> str | None:
    """Settings for one application, not this one: a misspelt name."""
    named = set(context.snapshot.settings.applications)
    if len(named) != 1 or context.state.config.application in named:
        return None
    return (
        f"the settings name only application {next(iter(named))!r},"
        f" not this one ({context.state.config.application!r})"
    )


@register(
    CLIENT_CA_MISSING,
    "error",
    "Set ENFORCE_HTTPS_CLIENT_CA to the PEM bundle of the CAs that issue"
    " client certificates.",
)
def client_ca_missing(context: Context) -> str | None:
    """Endpoints added after init_app that need client certificates."""
    if context.state.client_ca is not None:
        return None
    needs_ca = sorted(
        {
            p.endpoint or ""
            for p in context.policies
            if p.effective is HttpSecurity.TLS_CLIENT_CERT
        }
    )
    if not needs_ca:
        return None
    return (
        "these endpoints need client certificates but no client"
        " CA is configured: " + ", ".join(needs_ca)
    )
