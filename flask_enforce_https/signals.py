"""Blinker signals sent by flask-enforce-https, in the extension's own
namespace.

Connect to them to log, count or alert::

    from flask_enforce_https import signals

    @signals.request_redirected.connect_via(app)
    def log_redirect(sender, request, location, reason, **extra):
        app.logger.info("%s -> %s (%s)", request.url, location, reason)
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A plain-HTTP request was redirected to HTTPS. Sender: the app;
#: keyword arguments ``request``, ``location`` and ``reason``.
request_redirected = _signals.signal("request-redirected")

#: A request was refused. Sender: the app; keyword arguments ``request``,
#: ``status`` and ``reason``.
request_rejected = _signals.signal("request-rejected")

#: A changed settings file was validated and is now in force. Sender: the
#: app; keyword arguments ``source`` (the file) and ``settings`` (the new
#: :class:`~flask_enforce_https.settings.Settings`).
settings_applied = _signals.signal("settings-applied")

#: A changed settings file was refused; the last good settings stay in
#: force. Sender: the app; keyword arguments ``source`` and ``error`` (a
#: :class:`~flask_enforce_https.errors.SettingsError`).
settings_rejected = _signals.signal("settings-rejected")
