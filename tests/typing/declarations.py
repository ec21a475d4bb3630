"""Checked by mypy (``make test``), never run: a misspelt level is a type
error. Each ``type: ignore`` below must be needed, or mypy --strict reports
it unused, so the file fails if the error goes away."""

from __future__ import annotations

from flask_enforce_https import EnforceHTTPS, HttpSecurity

https = EnforceHTTPS()

https.screen("tls")
https.screen("none")
https.screen(HttpSecurity.TLS)
https.screen()
https.rest("tls-client-cert")
https.soap("none")

https.screen("tsl")  # type: ignore[arg-type]
https.rest("TLS")  # type: ignore[arg-type]
https.soap("ssl")  # type: ignore[arg-type]
https.rest(level=1)  # type: ignore[arg-type]
