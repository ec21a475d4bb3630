"""Per-application state: validated config, settings in force, and the
effective policies cached for them.
"""

from __future__ import annotations

import time
import typing as t
import weakref
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.routing import Rule

from . import placement
from .client_certs import ClientCAs
from .declarations import design_for
from .errors import ConfigurationError, EnforceHTTPSError
from .levels import HttpSecurity
from .location import hostname
from .policy import Policy, resolve
from .proxies import TrustedProxies
from .settings import Settings
from .sources import Status

_HOSTS_REMEMBERED = 1024
#: Where :class:`~flask_enforce_https.middleware.HTTPSMiddleware` leaves the
#: :class:`Snapshot` a request is judged by, so that a reload in between
#: cannot judge one request by two versions.
SNAPSHOT_KEY = "flask_enforce_https.snapshot"


class Snapshot:
    """One settings version, with what requests need from it precomputed.

    Policies are resolved on first use per endpoint and then cached, so a
    request costs a dict lookup whatever the number of endpoints. A new
    settings version gets a new snapshot, and so a fresh cache.

    :param settings: The validated settings.
    :param application: This application's name in them.
    :param default: The level of endpoints that declare none.
    :param app: The application, to find each endpoint's view and
        blueprints; weakly, as the app owns its state.
    """

    def __init__(
        self,
        settings: Settings,
        application: str,
        default: HttpSecurity,
        app: weakref.ref[Flask],
    ):
        environment = settings.environment
        own = settings.application(application)
        self.settings = settings
        self._app = app
        self.application = application
        self.default = default
        self.trusted = environment.trusted_proxies
        self.proxies = TrustedProxies(self.trusted)
        self.secure_cookies = environment.secure_cookies or own.secure_cookies
        self.hsts_header = _hsts_header(settings) if environment.hsts else None
        self.hsts_excluded = frozenset(environment.hsts_excluded_hosts)
        #: Each ``exempt_paths`` entry with the scope that set it.
        self.exempt_entries = (
            *(("environment", p) for p in environment.exempt_paths),
            *((f"application '{application}'", p) for p in own.exempt_paths),
        )
        paths = (*environment.exempt_paths, *own.exempt_paths)
        self.exempt_exact = frozenset(p for p in paths if not p.endswith("/"))
        self.exempt_prefixes = tuple(p for p in paths if p.endswith("/"))
        self._policies: dict[str | None, Policy] = {}
        self._hsts_by_host: dict[str | None, str | None] = {}

    def policy(self, endpoint: str | None) -> Policy:
        """Return the effective policy of ``endpoint``, cached.

        :param endpoint: The endpoint, or ``None`` for unmatched URLs.
        """
        try:
            return self._policies[endpoint]
        except KeyError:
            app = self._app()
            if app is None:  # pragma: no cover - the app owns the snapshot
                raise EnforceHTTPSError("the application is gone") from None
            design = design_for(app, endpoint, self.default)
            policy = resolve(endpoint, design, self.settings, self.application)
            # Concurrent misses compute the same value; the last write wins.
            self._policies[endpoint] = policy
            return policy

    def hsts_for(self, host: str | None) -> str | None:
        """Return the HSTS header an HTTPS response to ``host`` gets, if any.

        The host is compared with the exclusions however it is written (case,
        a trailing dot, any IPv6 form): ``location.hostname`` writes it
        as the settings do. The answer is cached per ``Host`` value.

        :param host: The ``Host`` the client used.
        """
        if self.hsts_header is None:
            return None
        try:
            return self._hsts_by_host[host]
        except KeyError:
            value = None if hostname(host) in self.hsts_excluded else self.hsts_header
            # Hosts come from clients: remember a bounded number of them.
            if len(self._hsts_by_host) < _HOSTS_REMEMBERED:
                self._hsts_by_host[host] = value
            return value

    def is_exempt(self, path: str) -> bool:
        """Whether ``path`` is served as it comes (health checks, ACME).

        A path with ``.`` or ``..`` segments is never exempt, so that an
        exempt prefix cannot be used to reach another route.

        :param path: The request path, as routing sees it.
        """
        if path in self.exempt_exact:
            return True
        if not path.startswith(self.exempt_prefixes):
            return False
        return not any(s in (".", "..") for s in path.split("/"))

    def rule_policy(self, rule: Rule) -> Policy:
        """Return the policy of every URL of ``rule``: exempt from the
        administrator's forcing when all of its URLs are exempt.

        :param rule: A URL rule of the app.
        """
        policy = self.policy(rule.endpoint)
        return policy.exempted if self.rule_is_exempt(rule.rule) else policy

    def exempt_reach(self, rules: t.Iterable[Rule]) -> list[tuple[str, str, list[str]]]:
        """Return each ``exempt_paths`` entry with its scope and the
        endpoints, among ``rules``, with some URL it exempts.

        :param rules: The application's URL rules.
        """
        rules = list(rules)
        return [
            (
                scope,
                entry,
                sorted({r.endpoint for r in rules if entry_matches(entry, r.rule)}),
            )
            for scope, entry in self.exempt_entries
        ]

    def rule_is_exempt(self, rule: str) -> bool:
        """Whether every URL of a URL rule is exempt.

        :param rule: The rule as written, converters and all.
        """
        static = rule.partition("<")[0]
        if static == rule:
            return self.is_exempt(rule)
        # With converters, only a prefix exempts every URL of the rule.
        return static.startswith(self.exempt_prefixes) and self.is_exempt(static)


def entry_matches(entry: str, rule: str) -> bool:
    """Whether an ``exempt_paths`` entry exempts some URL of a URL rule.

    :param entry: An exact path, or a prefix ending in ``/``.
    :param rule: The rule as written, converters and all.
    """
    static = rule.partition("<")[0]
    if static == rule:
        return rule.startswith(entry) if entry.endswith("/") else rule == entry
    # Some URL of the rule starts with its static part.
    if entry.endswith("/"):
        return static.startswith(entry) or entry.startswith(static)
    return entry.startswith(static)


def _hsts_header(settings: Settings) -> str:
    environment = settings.environment
    value = f"max-age={environment.hsts_max_age}"
    if environment.hsts_include_subdomains:
        value += "; includeSubDomains"
    if environment.hsts_preload:
        value += "; preload"
    return value


class SettingsSource(t.Protocol):
    """Where settings come from: :meth:`current` returns those in force."""

    def current(self) -> Settings:
        """Return the settings in force now."""
        ...

    def status(self) -> Status:
        """Return where the settings come from and how they are."""
        ...


@dataclass(frozen=True)
class StaticSource:
    """Settings given once, as a mapping in the config."""

    settings: Settings
    loaded_at: float = field(default_factory=time.time)

    def current(self) -> Settings:
        """Return the settings."""
        return self.settings

    def status(self) -> Status:
        """Return the config key, ``"ok"`` and when the app read it."""
        return Status("ENFORCE_HTTPS_SETTINGS (mapping)", "ok", self.loaded_at)


@dataclass
class AppState:
    """What the extension keeps for one application, in
    ``app.extensions["enforce_https"]``.

    :param application: The application's name in the settings.
    :param default: ``ENFORCE_HTTPS_DEFAULT_SECURITY``.
    :param redirect_code: For GET and HEAD.
    :param redirect_code_other: For other methods.
    :param redirect_max_age: Seconds clients may cache a redirect
        (``ENFORCE_HTTPS_REDIRECT_MAX_AGE``).
    :param port: The HTTPS port redirects go to.
    :param host: The host redirects go to: ``ENFORCE_HTTPS_HOST``, else
        ``SERVER_NAME`` when it pins the app's host; ``None`` to take the
        request's.
    :param domain: With ``subdomain_matching``, ``SERVER_NAME``'s host: a
        redirect's host must be it or one of its subdomains.
    :param source: Where the settings come from.
    :param client_ca: Verifies client certificates, when configured.
    """

    application: str
    default: HttpSecurity
    redirect_code: int
    redirect_code_other: int
    redirect_max_age: int
    port: int
    host: str | None
    source: SettingsSource
    #: The application, weakly: it owns its state.
    app: weakref.ref[Flask]
    domain: str | None = None
    client_ca: ClientCAs | None = None
    #: Whether any endpoint is at ``tls-client-cert``.
    needs_client_certs: bool = False
    #: Whether the first request has scanned the endpoints: routes may be
    #: added after init_app, but not after the first request.
    scanned: bool = False
    _snapshot: Snapshot | None = field(default=None, repr=False)
    _static: Snapshot | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.source, StaticSource):
            # Settings from the config never change: one snapshot for good.
            self._static = Snapshot(
                self.source.settings, self.application, self.default, self.app
            )

    def snapshot(self) -> Snapshot:
        """Return the snapshot for the settings in force, building it when
        they changed."""
        if self._static is not None:
            return self._static
        settings = self.source.current()
        snapshot = self._snapshot
        if snapshot is None or snapshot.settings is not settings:
            snapshot = Snapshot(settings, self.application, self.default, self.app)
            self._snapshot = snapshot
        return snapshot

    def scan(self, app: Flask) -> None:
        """Find the endpoints that need client certificates, and
        declarations where they are ignored (see :mod:`.placement`).

        Runs at :meth:`~flask_enforce_https.EnforceHTTPS.init_app` and again
        at the first request, for endpoints added in between.

        :param app: The application.
        :raises ConfigurationError: Some endpoint needs client
            certificates and ``ENFORCE_HTTPS_CLIENT_CA`` is not set, or a
            method of a class-based view is declared.
        """
        placement.check(app)
        needing = sorted(
            endpoint
            for endpoint in app.view_functions
            if design_for(app, endpoint, self.default).level
            is HttpSecurity.TLS_CLIENT_CERT
        )
        if needing and self.client_ca is None:
            raise ConfigurationError(
                "ENFORCE_HTTPS_CLIENT_CA",
                f"{', '.join(map(repr, needing))}"
                f" {'requires' if len(needing) == 1 else 'require'} tls-client-cert,"
                " but no client CA is set; set it to the PEM bundle of the CAs that"
                " issue client certificates",
            )
        self.needs_client_certs = bool(needing)
