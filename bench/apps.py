"""The applications the benchmarks compare, and the requests they send.

Shared by ``overhead.py`` (wall clock), ``instructions.py`` (callgrind) and
``endtoend.py`` (gunicorn and wrk), so that all three measure the same apps.
Each has a screen at ``/``, a REST endpoint at ``/api/orders`` and more
routes up to ``count``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import flask_talisman  # type: ignore[import-untyped]
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder

from flask_enforce_https import EnforceHTTPS

WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]

#: Ours, served directly: HSTS on HTTPS responses.
SETTINGS: dict[str, t.Any] = {"environment": {"hsts": True}}
#: Ours behind a reverse proxy on the same machine, as most users run it.
PROXY_SETTINGS: dict[str, t.Any] = {
    "environment": {"hsts": True, "trusted_proxies": ["127.0.0.1"]}
}
#: Where the file and store apps keep their settings: the folder the
#: benchmark gives (``BENCH_FOLDER``), or a new temporary one.
FOLDER_VARIABLE = "BENCH_FOLDER"
#: The reload interval of the file and store apps: longer than a run, so
#: that what is counted is the request path, not a reload or a poll.
QUIET_INTERVAL = 3600
#: The peer of a direct request, and of one through the proxy.
CLIENT_ADDR = "192.0.2.10"
PROXY_ADDR = "127.0.0.1"


def add_routes(app: Flask, count: int, https: EnforceHTTPS | None) -> None:
    """Give ``app`` a screen, a REST endpoint and ``count - 2`` other routes."""

    def home() -> str:
        return "hello"

    def api() -> dict[str, str]:
        return {"hello": "world"}

    if https is not None:
        https.screen()(home)
        https.rest()(api)
    app.add_url_rule("/", "home", home)
    app.add_url_rule("/api/orders", "api", api, methods=["GET", "POST"])
    for i in range(count - 2):
        app.add_url_rule(f"/page/{i}", f"page{i}", home)


def bare(count: int) -> Flask:
    """Flask with the routes and nothing else."""
    app = Flask("bare")
    add_routes(app, count, None)
    return app


def bare_proxy_fix(count: int) -> Flask:
    """Bare Flask behind a proxy: werkzeug's ``ProxyFix`` believes one hop's
    ``X-Forwarded-Proto``, so that the app sees the client's scheme."""
    app = bare(count)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1, x_host=0)  # type: ignore[method-assign]
    return app


def bare_layers(count: int) -> Flask:
    """Bare Flask with only what taking part costs an extension built like
    ours: an empty WSGI middleware and an empty wrapper of
    ``preprocess_request``. The floor under our pass-through."""
    app = bare(count)
    inner = app.wsgi_app
    preprocess = app.preprocess_request

    def middleware(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Iterable[bytes]:
        return inner(environ, start_response)

    def preprocess_request() -> t.Any:
        return preprocess()

    app.wsgi_app = middleware  # type: ignore[method-assign]
    app.preprocess_request = preprocess_request  # type: ignore[method-assign]
    return app


def talisman(count: int) -> Flask:
    """flask-talisman as close to ours as it goes: HTTPS and HSTS only."""
    app = Flask("talisman")
    add_routes(app, count, None)
    flask_talisman.Talisman(
        app,
        force_https=True,
        force_https_permanent=True,
        strict_transport_security=True,
        strict_transport_security_include_subdomains=False,
        content_security_policy=None,
        frame_options=None,
        referrer_policy=None,
        feature_policy={},
        permissions_policy={},
        document_policy={},
        session_cookie_secure=False,
        x_content_type_options=False,
        x_xss_protection=False,
    )
    return app


def ours(count: int, settings: t.Any = None, **config: t.Any) -> Flask:
    """The app with flask-enforce-https: ``/`` a screen, ``/api/orders`` REST.

    :param settings: ``ENFORCE_HTTPS_SETTINGS``; :data:`SETTINGS` by default.
    :param config: More configuration keys.
    """
    app = Flask("ours")
    app.config["ENFORCE_HTTPS_SETTINGS"] = SETTINGS if settings is None else settings
    app.config.update(config)
    https = EnforceHTTPS()
    add_routes(app, count, https)
    https.init_app(app)
    return app


def ours_behind_proxy(count: int) -> Flask:
    """Ours, trusting ``X-Forwarded-Proto`` from 127.0.0.1 only."""
    return ours(count, PROXY_SETTINGS)


def _folder(name: str) -> Path:
    # A new folder per app: one process builds several.
    base = os.environ.get(FOLDER_VARIABLE) or None
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))


def ours_file(count: int) -> Flask:
    """Ours, its settings (:data:`SETTINGS`) in a JSON file."""
    path = _folder("file") / "settings.json"
    path.write_text(json.dumps(SETTINGS), "utf-8")
    return ours(count, str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=QUIET_INTERVAL)


def ours_store(count: int) -> Flask:
    """Ours, its settings (:data:`SETTINGS`) in a SQLite store, served as a
    farm serves them: one request starts the poller, and the app is
    returned once the poller has done its first round (read the head,
    beat) and waits out the interval, so that its thread costs nothing
    while the requests are counted."""
    from flask_enforce_https.store import Store

    folder = _folder("store")
    url = f"sqlite:///{folder}/settings.db"
    with Store(url) as store:
        store.init()
        store.apply(SETTINGS, 0, "bench", "import")
    app = ours(
        count,
        url,
        ENFORCE_HTTPS_RELOAD_INTERVAL=QUIET_INTERVAL,
        ENFORCE_HTTPS_SETTINGS_CACHE=str(folder / "cache.json"),
    )
    app.test_client().get("https://example.com/")
    deadline = time.monotonic() + 60
    with Store(url) as store:
        while not store.status().processes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: the poller did not beat within 60 s")
            time.sleep(0.05)
    return app


#: The apps by name, for ``instructions.py``'s child processes and gunicorn.
FACTORIES: dict[str, t.Callable[[int], Flask]] = {
    "bare": bare,
    "bare-proxyfix": bare_proxy_fix,
    "bare-layers": bare_layers,
    "talisman": talisman,
    "ours": ours,
    "ours-proxy": ours_behind_proxy,
    "ours-file": ours_file,
    "ours-store": ours_store,
}


def create(name: str, count: int = 10) -> Flask:
    """Build the app called ``name`` in :data:`FACTORIES` (gunicorn calls
    this: ``gunicorn 'apps:create("ours")'``)."""
    return FACTORIES[name](count)


def environ(
    method: str,
    url: str,
    remote_addr: str = CLIENT_ADDR,
    headers: dict[str, str] | None = None,
) -> dict[str, t.Any]:
    """The WSGI environ of a request, as a server would pass it."""
    parts = urlsplit(url)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=list((headers or {}).items()),
    )
    try:
        env = builder.get_environ()
    finally:
        builder.close()
    env["REMOTE_ADDR"] = remote_addr
    return env


#: The requests of the scenarios, by name.
REQUESTS: dict[str, t.Callable[[], dict[str, t.Any]]] = {
    "https-get": lambda: environ("GET", "https://example.com/"),
    "http-get": lambda: environ("GET", "http://example.com/"),
    "http-post": lambda: environ("POST", "http://example.com/api/orders"),
    "proxied-get": lambda: environ(
        "GET",
        "http://example.com/",
        remote_addr=PROXY_ADDR,
        headers={"X-Forwarded-Proto": "https"},
    ),
}


def caller(app: Flask, template: dict[str, t.Any]) -> t.Callable[[int], int]:
    """Return a function making ``n`` requests and returning the last status.

    It calls ``app.wsgi_app``: the app's own pipeline with its WSGI
    middleware (ours, ``ProxyFix``), as a server would through ``app``.
    """
    wsgi: WSGIApp = app.wsgi_app
    status = [""]

    def start_response(code: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        status[0] = code
        return None

    def run(n: int) -> int:
        for _ in range(n):
            env = template.copy()
            env["wsgi.input"] = io.BytesIO()
            body = wsgi(env, start_response)
            for _ in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return int(status[0].split()[0])

    return run
