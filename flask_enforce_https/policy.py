"""The effective security of an endpoint: a pure function of its design and
the administrator settings.

The request hook and the ``flask https`` CLI both call :func:`resolve`, so
what the CLI shows is what requests get.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .declarations import Design, Kind
from .levels import HttpSecurity
from .settings import Settings


@dataclass(frozen=True)
class Policy:
    """What one endpoint requires, and why.

    :param endpoint: The endpoint name, or ``None`` for unmatched URLs.
    :param design: The design-time security, after inheritance.
    :param effective: The level in force after the administrator overrides.
    :param reasons: Everything that raised the level above
        ``none``, design time first; empty when nothing did.
    :param exempt: Whether this is the policy on an exempt path, where the
        administrator's forcing does not apply.
    """

    endpoint: str | None
    design: Design
    effective: HttpSecurity
    reasons: tuple[str, ...]
    exempt: bool = False

    @property
    def kind(self) -> Kind:
        """The endpoint kind."""
        return self.design.kind

    @property
    def requires_tls(self) -> bool:
        """Whether plain HTTP requests are refused or redirected."""
        return self.effective.requires_tls

    @functools.cached_property
    def exempted(self) -> Policy:
        """This policy on a path in ``exempt_paths``: exempt from what the
        administrator forced, never from what the design requires."""
        design_reasons = self.reasons[: int(self.design.level.requires_tls)]
        return Policy(
            self.endpoint, self.design, self.design.level, design_reasons, True
        )

    @functools.cached_property
    def reason(self) -> str:
        """The reasons as one readable line, for signals and logs."""
        return "; ".join(self.reasons) or "nothing requires HTTPS"


def resolve(
    endpoint: str | None, design: Design, settings: Settings, application: str
) -> Policy:
    """Combine a design-time declaration with the administrator settings.

    Overrides only tighten: the result is never below the design-time level.
    A screen needs TLS when its design does, or the environment's ``hsts``
    (unless ``hsts_max_age`` is 0, which clears HSTS), or the environment's
    or the application's ``force_https_screens``. An integration needs TLS
    when its design does, or the environment's or the application's
    ``force_https_integrations``; HSTS alone does not force integrations.

    :param endpoint: The endpoint name, for the reasons.
    :param design: The endpoint's design-time security.
    :param settings: The administrator settings in force.
    :param application: This application's name in the settings.
    """
    reasons = []
    if design.level.requires_tls:
        name = endpoint or "(unmatched URL)"
        reasons.append(
            f"design-time ({design.origin}): {design.kind.value} '{name}'"
            f" requires {design.level.value}"
        )
    environment = settings.environment
    own = settings.application(application)
    if design.kind.is_integration:
        if environment.force_https_integrations:
            reasons.append("environment: force_https_integrations")
        if own.force_https_integrations:
            reasons.append(f"application '{application}': force_https_integrations")
    else:
        # hsts_max_age = 0 clears HSTS in browsers: the header tells them to
        # forget the host, and screens are no longer forced by it.
        if environment.hsts and environment.hsts_max_age > 0:
            reasons.append("environment: hsts")
        if environment.force_https_screens:
            reasons.append("environment: force_https_screens")
        if own.force_https_screens:
            reasons.append(f"application '{application}': force_https_screens")
    overridden = len(reasons) > int(design.level.requires_tls)
    effective = max(design.level, HttpSecurity.TLS) if overridden else design.level
    return Policy(endpoint, design, effective, tuple(reasons))
