"""Blinker signals sent by flask-enforce-https, in the extension's own
namespace.

Connect to them to log, count or alert::

    from flask_enforce_https import signals

    @signals.request_redirected.connect_via(app)
    def log_redirect(sender, request, location, reason, **extra):
        app.logger.info("%s -> %s (%s)", request.url, location, reason)

A receiver that raises is logged on the ``flask_enforce_https`` logger
and changes nothing else: the request still gets its redirect or refusal,
and a reload still applies its settings.
"""

from __future__ import annotations

import logging
import typing as t
from inspect import iscoroutinefunction

from blinker import NamedSignal, Namespace

logger = logging.getLogger("flask_enforce_https")
_signals = Namespace()

#: A plain-HTTP request was redirected to HTTPS. Sender: the app;
#: keyword arguments ``request``, ``location`` and ``reason``.
request_redirected = _signals.signal("request-redirected")

#: A request was refused. Sender: the app; keyword arguments ``request``,
#: ``status`` and ``reason``.
request_rejected = _signals.signal("request-rejected")

#: A changed settings file, or a store's new revision, was validated and is
#: now in force. Sender: the app; keyword arguments ``source`` (the file, or
#: the store's URL with its password hidden) and ``settings`` (the new
#: :class:`~flask_enforce_https.settings.Settings`). For a store, it is
#: sent from the process's poller thread, outside any request.
settings_applied = _signals.signal("settings-applied")

#: A changed settings file, or a store's new revision, was refused; the
#: last good settings stay in force. Sender: the app; keyword arguments
#: ``source`` and ``error`` (a
#: :class:`~flask_enforce_https.errors.SettingsError`).
settings_rejected = _signals.signal("settings-rejected")

#: A settings store stopped answering; the settings in force stay. Sent
#: once per outage, from the process's poller thread. Sender: the app;
#: keyword arguments ``source`` (the store's URL, password hidden),
#: ``error`` and ``since`` (epoch seconds).
store_unreachable = _signals.signal("store-unreachable")

#: A settings store answers again after an outage. Sender: the app;
#: keyword arguments ``source`` and ``down_for`` (seconds).
store_reachable = _signals.signal("store-reachable")


def send(signal: NamedSignal, sender: object, **kwargs: t.Any) -> None:
    """Send ``signal`` to each receiver; one that raises is logged, never
    passed on.

    A receiver runs inside a request, or inside the settings reload a
    request triggers: its exception must neither change what the request
    gets nor stop the other receivers or the reload. The exception is
    logged with its traceback on the ``flask_enforce_https`` logger.

    :param signal: One of the signals above.
    :param sender: The application.
    :param kwargs: The signal's keyword arguments.
    """
    if signal.is_muted:
        return
    for receiver in signal.receivers_for(sender):
        if iscoroutinefunction(receiver):
            # blinker's send would raise; a coroutine never awaited warns.
            logger.error(
                "signal %s not sent to %r: it is a coroutine function",
                signal.name,
                receiver,
            )
            continue
        try:
            receiver(sender, **kwargs)
        except Exception:
            logger.exception(
                "receiver %r of signal %s raised; ignored", receiver, signal.name
            )
