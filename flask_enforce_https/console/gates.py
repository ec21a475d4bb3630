"""Changes that need more than a click: what they risk, and when they are
refused outright.

Each gate names a confirmation field; a change whose gates are not all
confirmed is not applied (400, nothing written). A gate with ``refused``
set cannot be confirmed at all: the reason says what must come first.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass

from flask import Flask, Request

from ..checks import app_hosts, certificate_findings
from ..proxies import (
    ORIGINAL_KEY,
    VIEW_KEY,
    ClientView,
    TrustedProxies,
    client_view,
)
from ..state import AppState
from .review import Review

#: The max-age the console suggests for a first try of HSTS: five minutes.
TRIAL_MAX_AGE = 300


@dataclass(frozen=True)
class Gate:
    """One risk of a change.

    :param name: The confirmation field (``confirm_<name>``).
    :param message: What the change risks, in words.
    :param refused: Why it cannot be applied now; ``None`` when a
        confirmation is enough.
    """

    name: str
    message: str
    refused: str | None = None

    @property
    def field(self) -> str:
        """The form field that confirms it."""
        return f"confirm_{self.name}"


def duration(seconds: int) -> str:
    """``seconds`` in the largest whole unit: "5 minutes", "1 year"."""
    for unit, size in (("year", 31536000), ("day", 86400), ("hour", 3600)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    if seconds >= 60 and seconds % 60 == 0:
        count = seconds // 60
        return f"{count} minute{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _environment(document: t.Mapping[str, t.Any]) -> t.Mapping[str, t.Any]:
    return t.cast("t.Mapping[str, t.Any]", document.get("environment", {}))


def gates(
    app: Flask,
    state: AppState,
    request: Request,
    document: t.Mapping[str, t.Any],
    proposed: Review,
) -> list[Gate]:
    """The gates of a reviewed change.

    :param app: The app the console is mounted in.
    :param state: Its extension state.
    :param request: The console user's request.
    :param document: The document in force.
    :param proposed: The reviewed change.
    """
    found: list[Gate] = []
    before = state.snapshot().settings.environment
    after = proposed.settings.environment
    was = _environment(document)
    if (
        after.hsts
        and after.hsts_max_age > 0
        and not (before.hsts and before.hsts_max_age >= after.hsts_max_age)
    ):
        found.append(_hsts_on(app, state, request, after.hsts_max_age))
    if (
        after.hsts
        and after.hsts_include_subdomains
        and not (before.hsts and before.hsts_include_subdomains)
    ):
        found.append(
            Gate(
                "include_subdomains",
                "includeSubDomains makes browsers refuse plain HTTP to every"
                " subdomain of the host too, including ones this app does not"
                " serve (an intranet site, a printer's page).",
            )
        )
    if after.hsts and after.hsts_preload and not (before.hsts and before.hsts_preload):
        found.append(
            Gate(
                "preload",
                "preload lets the host be built into browsers' HSTS lists once"
                " it is submitted; taking it out again takes months, and"
                " browsers already shipped keep it.",
            )
        )
    stops = was.get("hsts") is True and not after.hsts
    if stops and before.hsts_max_age > 0:
        found.append(
            Gate(
                "hsts_off",
                f"Browsers that saw the header keep refusing plain HTTP for up to"
                f" {duration(before.hsts_max_age)} if it just stops. Set HSTS"
                " max-age to 0 instead: browsers that see max-age=0 forget the"
                " host at once. Turn HSTS off later.",
            )
        )
    lockout = _lockout(request, after.trusted_proxies)
    if lockout is not None:
        found.append(Gate("own_requests", lockout, refused=lockout))
    return found


def _hsts_on(app: Flask, state: AppState, request: Request, max_age: int) -> Gate:
    message = (
        f"Browsers that see the header will refuse plain HTTP to this host for"
        f" {duration(max_age)}, even if HSTS is turned off again."
    )
    if max_age > TRIAL_MAX_AGE:
        message += (
            f" Try a short max-age first ({TRIAL_MAX_AGE} seconds) and raise it"
            " once every page works over HTTPS."
        )
    view = request.environ.get(VIEW_KEY)
    if not (isinstance(view, ClientView) and view.secure):
        return Gate("hsts", message, "open the console over HTTPS to turn HSTS on")
    config = state.config
    if config.certificate is None:
        return Gate(
            "hsts",
            message,
            "set ENFORCE_HTTPS_CERTIFICATE so that the console can check the"
            " certificate first: HSTS works only with a valid one installed",
        )
    problems = [
        f.message
        for f in certificate_findings(
            config.certificate,
            config.certificate_key,
            config.ca_bundle,
            app_hosts(app),
            datetime.datetime.now(datetime.timezone.utc),
            config.expiry_warning_days,
        )
        if f.severity == "error"
    ]
    if problems:
        return Gate(
            "hsts",
            message,
            "the certificate check fails: " + "; ".join(problems),
        )
    return Gate("hsts", message)


def _lockout(request: Request, networks: t.Iterable[t.Any]) -> str | None:
    """Why the new trusted proxies would turn the user's own requests away:
    they come over HTTPS as the extension sees them now, and would look
    like plain HTTP."""
    view = request.environ.get(VIEW_KEY)
    if not (isinstance(view, ClientView) and view.secure):
        return None
    # As the server gave the request, before the extension showed the app
    # what the trusted proxies said.
    server = dict(request.environ)
    original = server.get(ORIGINAL_KEY)
    if isinstance(original, dict):
        server.update({k: v for k, v in original.items() if v is not None})
    after = client_view(server, TrustedProxies(networks))
    if after.secure and not after.conflict:
        return None
    peer = request.environ.get("REMOTE_ADDR")
    return (
        f"your own requests come through {peer}, which the new trusted proxies"
        " do not trust: the console would see them as plain HTTP and redirect"
        " them. Keep that proxy in the list."
    )
