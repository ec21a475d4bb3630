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

from apps import (
    REQUESTS,
    bare,
    bare_layers,
    bare_proxy_fix,
    caller,
    ours,
    ours_behind_proxy,
    talisman,
)


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
    https_get = REQUESTS["https-get"]()
    http_get = REQUESTS["http-get"]()
    http_post = REQUESTS["http-post"]()
    proxied_get = REQUESTS["proxied-get"]()
    b, tm, o = bare(count), talisman(count), ours(count)
    reloading = ours(count, str(settings_file))
    return [
        (
            f"HTTPS screen + HSTS, pass-through ({count} endpoints)",
            {
                "bare Flask 200": caller(b, https_get),
                "bare Flask + empty layers": caller(bare_layers(count), https_get),
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
            f"Behind a trusted proxy, pass-through ({count} endpoints)",
            {
                "bare Flask 200": caller(b, proxied_get),
                "bare Flask + ProxyFix": caller(bare_proxy_fix(count), proxied_get),
                "flask-talisman": caller(tm, proxied_get),
                "flask-enforce-https": caller(ours_behind_proxy(count), proxied_get),
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
    run = caller(ours(10), REQUESTS["https-get"]())
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
    parser.add_argument("--memory-requests", type=int, default=200_000)
    parser.add_argument(
        "--endpoints",
        type=int,
        nargs="+",
        default=[10, 1000],
        help="Numbers of endpoints to measure at.",
    )
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
        for count in args.endpoints:
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
