"""One settings version, with what requests need from it precomputed: the
effective policy of each endpoint, the HSTS header by host, the exempt
paths and the trusted proxies."""

from __future__ import annotations

import typing as t
import weakref

from flask import Flask
from werkzeug.routing import Rule

from .declarations import design_for
from .errors import EnforceHTTPSError
from .levels import HttpSecurity
from .location import hostname
from .policy import Policy, resolve
from .proxies import TrustedProxies
from .settings import Settings

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
