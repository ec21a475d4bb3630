"""Per-application state: validated config, settings in force, and the
effective policies cached for them.
"""

from __future__ import annotations

import os
import time
import typing as t
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from . import placement, signals
from .client_certs import ClientCAs
from .config import Config, load
from .declarations import design_for
from .errors import ConfigurationError, SettingsError
from .levels import HttpSecurity
from .loading import names_store, purpose
from .settings import Settings, parse_settings
from .snapshot import Snapshot
from .sources import FORMATS, FileSource, Status

if t.TYPE_CHECKING:
    from .store.source import StoreSource


#: Where an app keeps the extension's state in ``app.extensions``.
EXTENSION_KEY = "enforce_https"


class SettingsSource(t.Protocol):
    """Where settings come from: :meth:`current` returns those in force."""

    def current(self) -> Settings:
        """Return the settings in force now."""
        ...

    def status(self) -> Status:
        """Return where the settings come from and how they are."""
        ...

    def peek(self) -> Settings:
        """Return the settings in force, starting nothing and checking
        nothing: for start-up, which must not start a store's poller in a
        process that will fork."""
        ...


@dataclass(frozen=True)
class StaticSource:
    """Settings given once, as a mapping in the config."""

    settings: Settings
    loaded_at: float = field(default_factory=time.time)

    def current(self) -> Settings:
        """Return the settings."""
        return self.settings

    def peek(self) -> Settings:
        """Return the settings."""
        return self.settings

    def status(self) -> Status:
        """Return the config key, ``"ok"`` and when the app read it."""
        return Status("ENFORCE_HTTPS_SETTINGS (mapping)", "ok", self.loaded_at)


def settings_source(app: Flask, config: Config) -> SettingsSource:
    """Return where ``app``'s settings come from: ``ENFORCE_HTTPS_SETTINGS``
    (the config key, else the environment variable), a mapping, a file or a
    store's URL.

    :param app: The application.
    :param config: Its validated config.
    :raises ConfigurationError: The key is not a mapping, a file path or a
        store URL, or names a store without the ``store`` extra.
    :raises SettingsError: The settings are invalid.
    :raises StoreError: The store has no tables, or cannot be reached and
        there is no cache of its settings.
    """
    key = "ENFORCE_HTTPS_SETTINGS"
    value = app.config[key]
    if value is None:
        value = os.environ.get(key) or {}
    if isinstance(value, Mapping):
        return StaticSource(parse_settings(value))
    source: FileSource | StoreSource
    if names_store(value):
        store = source = _store_source(value, config)
        where = str(store.url)
    elif isinstance(value, (str, os.PathLike)):
        path = Path(value).absolute()
        if path.suffix not in FORMATS:
            raise ConfigurationError(
                key,
                f"expected a .toml or .json file, or a store URL (sqlite:///PATH"
                f" or postgresql+psycopg://USER@HOST/DB), got {str(path)!r}",
            )
        source = FileSource(path, config.reload_interval)
        where = str(path)
    else:
        raise ConfigurationError(
            key,
            "expected the path of a .toml or .json file, a store URL, or a"
            f" mapping of settings, got {type(value).__name__}",
        )
    _connect_signals(source, app, where)
    return source


def _store_source(url: str, config: Config) -> StoreSource:
    try:
        from .store.errors import StoreURLError
        from .store.source import StoreSource
    except ImportError:
        raise ConfigurationError(
            "ENFORCE_HTTPS_SETTINGS",
            "a settings store needs SQLAlchemy and psycopg: pip install"
            " 'flask-enforce-https[store]'",
        ) from None
    try:
        return StoreSource(
            url,
            application=config.application,
            interval=config.reload_interval,
            cache=config.settings_cache,
            listen=config.store_listen,
            purpose=purpose(),
        )
    except StoreURLError as e:
        raise ConfigurationError("ENFORCE_HTTPS_SETTINGS", str(e)) from None


def _connect_signals(source: FileSource | StoreSource, app: Flask, where: str) -> None:
    # A weak reference: the app owns the source, not the other way round.
    # Sent with signals.send: a receiver that raises is logged, so that it
    # neither stops the reload nor escapes HTTPSMiddleware as a raw 500.
    sender = weakref.ref(app)

    def applied(settings: Settings, changes: list[str]) -> None:
        if (app := sender()) is not None:
            signals.send(signals.settings_applied, app, source=where, settings=settings)

    def rejected(error: SettingsError) -> None:
        if (app := sender()) is not None:
            signals.send(signals.settings_rejected, app, source=where, error=error)

    source.applied.append(applied)
    source.rejected.append(rejected)
    if isinstance(source, FileSource):
        return

    def unreachable(error: Exception, since: float) -> None:
        if (app := sender()) is not None:
            signals.send(
                signals.store_unreachable, app, source=where, error=error, since=since
            )

    def reachable(down_for: float) -> None:
        if (app := sender()) is not None:
            signals.send(signals.store_reachable, app, source=where, down_for=down_for)

    source.unreachable.append(unreachable)
    source.reachable.append(reachable)
    if source.down_since is not None and source.error is not None:
        # It started from its cache: the outage began before anyone could
        # listen to the source, not before the app's receivers.
        unreachable(source.error, source.down_since)


@dataclass
class AppState:
    """What the extension keeps for one application, in
    ``app.extensions["enforce_https"]``: its validated config, where its
    settings come from, and what is worked out from them.

    :param config: The validated ``ENFORCE_HTTPS_*`` keys.
    :param source: Where the settings come from.
    :param app: The application, weakly: it owns its state.
    :param client_ca: Verifies client certificates, when configured.
    """

    config: Config
    source: SettingsSource
    app: weakref.ref[Flask]
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
            self._static = self._snapshot_of(self.source.settings)

    def snapshot(self) -> Snapshot:
        """Return the snapshot for the settings in force, building it when
        they changed."""
        if self._static is not None:
            return self._static
        settings = self.source.current()
        snapshot = self._snapshot
        if snapshot is None or snapshot.settings is not settings:
            snapshot = self._snapshot = self._snapshot_of(settings)
        return snapshot

    def prepare(self) -> Snapshot:
        """Build the snapshot of the settings in force at start-up, without
        starting anything: a store's poller starts on the first request, in
        the process that serves it (after gunicorn forks its workers)."""
        if self._static is not None:
            return self._static
        self._snapshot = self._snapshot_of(self.source.peek())
        return self._snapshot

    def _snapshot_of(self, settings: Settings) -> Snapshot:
        return Snapshot(
            settings, self.config.application, self.config.default, self.app
        )

    @classmethod
    def create(cls, app: Flask) -> AppState:
        """Validate ``app``'s config and settings once, and return its state.

        :param app: The application, its config defaults already set.
        :raises ConfigurationError: A key has a bad value; the error names it.
        :raises SettingsError: The administrator settings are invalid.
        """
        config = load(app)
        source = settings_source(app, config)
        client_ca = None
        if config.client_ca is not None:
            client_ca = ClientCAs(config.client_ca, config.client_cert_header)
        return cls(config, source, weakref.ref(app), client_ca)

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
            if design_for(app, endpoint, self.config.default).level
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
