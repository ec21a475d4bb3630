"""Per-request cost of flask-enforce-https, next to bare Flask and
flask-talisman, measured side by side in one run.

Each scenario calls the apps' WSGI callables in-process. Rounds interleave
the apps, so that drift in the machine hits them alike, and the median of
the rounds is reported, in microseconds per request and as a ratio to bare
Flask serving a 200 on the same URL.

Run with ``make bench`` (or ``python bench/overhead.py --help``).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
import typing as t
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import flask_talisman
from flask import Flask
from werkzeug.test import EnvironBuilder

from flask_enforce_https import EnforceHTTPS

WSGIApp = t.Callable[[dict[str, t.Any], t.Callable[..., t.Any]], t.Iterable[bytes]]
SETTINGS = {"environment": {"hsts": True}}


def add_routes(app: Flask, count: int, https: EnforceHTTPS | None) -> None:
    """Give ``app`` a screen, a REST endpoint and ``count`` other routes."""

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
    app = Flask("bare")
    add_routes(app, count, None)
    return app


def talisman(count: int) -> Flask:
    app = Flask("talisman")
    add_routes(app, count, None)
    # As close to ours as it goes: force HTTPS and HSTS, nothing else.
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


def ours(count: int, settings: t.Any = None) -> Flask:
    app = Flask("ours")
    app.config["ENFORCE_HTTPS_SETTINGS"] = SETTINGS if settings is None else settings
    https = EnforceHTTPS()
    add_routes(app, count, https)
    https.init_app(app)
    return app


def environ(method: str, url: str) -> dict[str, t.Any]:
    """The WSGI environ of a request, as a server would pass it."""
    parts = urlsplit(url)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
    )
    try:
        env = builder.get_environ()
    finally:
        builder.close()
    env["REMOTE_ADDR"] = "192.0.2.10"
    return env


def caller(app: Flask, template: dict[str, t.Any]) -> t.Callable[[int], int]:
    """Return a function making ``n`` requests and returning the last status."""
    wsgi: WSGIApp = app.wsgi_app  # the app's own pipeline, no middleware
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


def measure(
    runners: dict[str, t.Callable[[int], int]], rounds: int, per_round: int
) -> dict[str, tuple[float, int]]:
    """Median microseconds per request of each runner, and its status."""
    samples: dict[str, list[float]] = {name: [] for name in runners}
    statuses = {name: run(50) for name, run in runners.items()}  # warm up
    names = list(runners)
    for round_ in range(rounds):
        # Rotate the order so no app always runs first or last.
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            gc.collect()
            start = time.perf_counter()
            runners[name](per_round)
            samples[name].append((time.perf_counter() - start) / per_round * 1e6)
    return {name: (statistics.median(s), statuses[name]) for name, s in samples.items()}


def scenarios(count: int, settings_file: Path) -> list[tuple[str, dict[str, t.Any]]]:
    https_get = environ("GET", "https://example.com/")
    http_get = environ("GET", "http://example.com/")
    http_post = environ("POST", "http://example.com/api/orders")
    b, tm, o = bare(count), talisman(count), ours(count)
    reloading = ours(count, str(settings_file))
    return [
        (
            f"HTTPS screen + HSTS, pass-through ({count} endpoints)",
            {
                "bare Flask 200": caller(b, https_get),
                "flask-talisman": caller(tm, https_get),
                "flask-enforce-https": caller(o, https_get),
            },
        ),
        (
            f"HTTP screen, redirected ({count} endpoints)",
            {
                "bare Flask 200": caller(b, http_get),
                "flask-talisman": caller(tm, http_get),
                "flask-enforce-https": caller(o, http_get),
            },
        ),
        (
            f"HTTP REST POST, rejected ({count} endpoints)",
            {
                "bare Flask 200": caller(b, http_post),
                "flask-talisman": caller(tm, http_post),
                "flask-enforce-https": caller(o, http_post),
            },
        ),
        (
            f"HTTPS screen, settings file with hot reload ({count} endpoints)",
            {
                "bare Flask 200": caller(b, https_get),
                "flask-enforce-https (mapping)": caller(o, https_get),
                "flask-enforce-https (file, reload 2 s)": caller(reloading, https_get),
            },
        ),
    ]


def memory(requests: int) -> tuple[float, float]:
    """KiB traced after 10% and after all of ``requests`` pass-throughs."""
    run = caller(ours(10), environ("GET", "https://example.com/"))
    run(10_000)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    run(requests // 10)
    gc.collect()
    early = tracemalloc.get_traced_memory()[0] - base
    run(requests - requests // 10)
    gc.collect()
    late = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return early / 1024, late / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=2000)
    parser.add_argument("--memory-requests", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)
    print(
        f"Python {platform.python_version()}, Flask {version('flask')},"
        f" flask-talisman {version('flask-talisman')}, {platform.machine()}"
    )
    print(f"{args.rounds} interleaved rounds of {args.per_round} requests; medians.\n")
    results: dict[str, t.Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        settings_file = Path(folder) / "settings.toml"
        settings_file.write_text("[environment]\nhsts = true\n")
        per_count = {}
        for count in (10, 10_000):
            for title, runners in scenarios(count, settings_file):
                measured = measure(runners, args.rounds, args.per_round)
                per_count[title] = measured
                base = measured["bare Flask 200"][0]
                print(title)
                for name, (micros, status) in measured.items():
                    ratio = micros / base
                    print(f"  {name:<40} {micros:8.2f} µs  {ratio:5.2f}x  ({status})")
                print()
        results["scenarios"] = {
            title: {name: {"us": m, "status": s} for name, (m, s) in rows.items()}
            for title, rows in per_count.items()
        }
    early, late = memory(args.memory_requests)
    print(
        f"Memory over {args.memory_requests:,} requests: +{early:.1f} KiB after"
        f" 10%, +{late:.1f} KiB at the end (tracemalloc)"
    )
    results["memory_kib"] = {"after_10_percent": early, "at_end": late}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
