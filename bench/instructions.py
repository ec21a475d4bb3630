"""Per-request cost of flask-enforce-https in CPU instructions, counted by
valgrind's callgrind, against bare Flask, with the targets checked.

Wall-clock figures on a shared machine move by several per cent between
runs; instruction counts barely move. The apps run under
``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``, in two processes.
Each app, built and warmed up, serves ``N1`` and then ``N2`` requests
between markers at which callgrind dumps its counters, so that
``(Ir(N2) - Ir(N1)) / (N2 - N1)`` is the cost of one request with start-up
and the markers cancelled out.

Run with ``make bench`` (or ``python bench/instructions.py --help``);
``--check`` exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

import apps

WARM_UP = 50
_MARKER = "getppid"
_TOTALS = re.compile(rb"^(?:summary|totals): (\d+)", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Run:
    """One app serving one request, ``count`` endpoints; ``instance``
    tells apart copies of the same app built to measure it again."""

    app: str
    request: str
    count: int = 10
    instance: int = 0

    @property
    def label(self) -> str:
        return f"{self.app} {self.request} ({self.count} endpoints)"


@dataclasses.dataclass(frozen=True)
class Target:
    """A ratio of instructions per request that must stay at or under a limit.

    ``ratio`` is ``numerator / denominator``, or with ``per`` given,
    ``(numerator / denominator) / (per[0] / per[1])``: our ratio to bare
    Flask at one size against the same ratio at another.
    """

    name: str
    numerator: Run
    denominator: Run
    limit: float
    per: tuple[Run, Run] | None = None

    def ratio(self, ir: t.Mapping[Run, float]) -> float:
        value = ir[self.numerator] / ir[self.denominator]
        if self.per is not None:
            value /= ir[self.per[0]] / ir[self.per[1]]
        return value


class Result(t.NamedTuple):
    """Instructions of one request, and the response's status; with
    several instances, the median and the range of their counts."""

    instructions: float
    status: int
    low: float = 0.0
    high: float = 0.0


# The rows of the table: a scenario, then its apps; the first is the base.
SCENARIOS: list[tuple[str, list[Run]]] = [
    (
        "HTTPS screen, pass-through with HSTS",
        [
            Run("bare", "https-get"),
            Run("bare-layers", "https-get"),
            Run("talisman", "https-get"),
            Run("ours", "https-get"),
        ],
    ),
    (
        "HTTP screen, redirected (bare: 200)",
        [Run("bare", "http-get"), Run("talisman", "http-get"), Run("ours", "http-get")],
    ),
    (
        "HTTP REST POST, refused (bare: 200)",
        [Run("bare", "http-post"), Run("ours", "http-post")],
    ),
    (
        "Behind a trusted proxy (X-Forwarded-Proto: https from 127.0.0.1)",
        [
            Run("bare-proxyfix", "proxied-get"),
            Run("bare", "proxied-get"),
            Run("talisman", "proxied-get"),
            Run("ours-proxy", "proxied-get"),
        ],
    ),
    (
        "Settings from a file or a store (SQLite), HTTPS pass-through",
        [Run("ours-file", "https-get"), Run("ours-store", "https-get")],
    ),
    (
        "Settings from a file or a store (SQLite), HTTP redirected",
        [Run("ours-file", "http-get"), Run("ours-store", "http-get")],
    ),
    (
        "HTTPS screen, pass-through, 1,000 endpoints",
        [Run("bare", "https-get", 1000), Run("ours", "https-get", 1000)],
    ),
    (
        "HTTP screen, redirected, 1,000 endpoints",
        [Run("bare", "http-get", 1000), Run("ours", "http-get", 1000)],
    ),
]

TARGETS = [
    Target(
        "pass-through <= 1.06x bare Flask",
        Run("ours", "https-get"),
        Run("bare", "https-get"),
        1.06,
    ),
    Target(
        "pass-through behind a proxy <= 1.06x bare Flask with ProxyFix",
        Run("ours-proxy", "proxied-get"),
        Run("bare-proxyfix", "proxied-get"),
        1.06,
    ),
    Target(
        "redirect <= 1.15x a bare 200",
        Run("ours", "http-get"),
        Run("bare", "http-get"),
        1.15,
    ),
    Target(
        "refusal <= 1.10x a bare 200",
        Run("ours", "http-post"),
        Run("bare", "http-post"),
        1.10,
    ),
    Target(
        "settings from a store, pass-through: within 1% of a file",
        Run("ours-store", "https-get"),
        Run("ours-file", "https-get"),
        1.01,
    ),
    Target(
        "settings from a store, redirect: within 1% of a file",
        Run("ours-store", "http-get"),
        Run("ours-file", "http-get"),
        1.01,
    ),
    Target(
        "pass-through overhead, 1,000 endpoints vs 10: within 3%",
        Run("ours", "https-get", 1000),
        Run("bare", "https-get", 1000),
        1.03,
        per=(Run("ours", "https-get"), Run("bare", "https-get")),
    ),
    Target(
        "redirect overhead, 1,000 endpoints vs 10: within 3%",
        Run("ours", "http-get", 1000),
        Run("bare", "http-get", 1000),
        1.03,
        per=(Run("ours", "http-get"), Run("bare", "http-get")),
    ),
]


def child(runs: list[Run], n1: int, n2: int) -> None:
    """Serve each run's requests between markers (inside valgrind).

    Every app is built first, so that all start-up is behind the first
    marker, and frozen out of the garbage collector, so that one app's
    objects do not lengthen another's collections.
    """
    servers = [
        apps.caller(apps.create(r.app, r.count), apps.REQUESTS[r.request]())
        for r in runs
    ]
    gc.collect()
    gc.freeze()
    statuses = []
    for serve in servers:
        serve(WARM_UP)  # fills the caches: routing, policies, HSTS per host
        _mark()
        serve(n1)
        _mark()
        statuses.append(serve(n2))
        _mark()
    print(json.dumps(statuses), flush=True)
    os._exit(0)  # skip the teardown: nothing after the last marker counts


def _mark() -> None:
    # callgrind dumps its counters, and zeroes them, before each call of
    # getppid(): nothing else in the process calls it.
    os.getppid()


def count(runs: list[Run], n1: int, n2: int, folder: Path) -> dict[Run, Result]:
    """Instructions per request and status of ``runs``, served in one
    process under callgrind."""
    out = folder / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--dump-before={_MARKER}",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--n1",
        str(n1),
        "--n2",
        str(n2),
        "--child",
        json.dumps([dataclasses.astuple(r) for r in runs]),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", apps.FOLDER_VARIABLE: str(folder)}
    proc = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        sys.exit(f"valgrind failed:\n{proc.stderr.decode(errors='replace')}")
    statuses = json.loads(proc.stdout.splitlines()[-1])
    dumps = sorted(folder.glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
    if len(dumps) != 3 * len(runs):
        sys.exit(f"expected {3 * len(runs)} callgrind dumps, got {len(dumps)}")
    totals = [_total(p) for p in dumps]
    return {
        run: Result((totals[3 * i + 2] - totals[3 * i + 1]) / (n2 - n1), status)
        for i, (run, status) in enumerate(zip(runs, statuses, strict=True))
    }


def _total(path: Path) -> int:
    match = _TOTALS.search(path.read_bytes())
    if match is None:
        sys.exit(f"no instruction total in {path}")
    return int(match.group(1))


def measure(runs: list[Run], n1: int, n2: int, jobs: int) -> dict[Run, Result]:
    """Instructions per request and status of every run, in ``jobs``
    processes at a time."""
    groups = [runs[i::jobs] for i in range(jobs) if runs[i::jobs]]
    results: dict[Run, Result] = {}
    with concurrent.futures.ThreadPoolExecutor(len(groups)) as pool:
        folders = [tempfile.TemporaryDirectory() for _ in groups]
        try:
            futures = [
                pool.submit(count, group, n1, n2, Path(folder.name))
                for group, folder in zip(groups, folders, strict=True)
            ]
            for future in futures:
                results.update(future.result())
        finally:
            for folder in folders:
                folder.cleanup()
    return {run: results[run] for run in runs}


def combine(results: t.Mapping[Run, Result]) -> dict[Run, Result]:
    """The median and range over the instances of each run."""
    instances: dict[Run, list[Result]] = {}
    for run, result in results.items():
        instances.setdefault(dataclasses.replace(run, instance=0), []).append(result)
    combined = {}
    for run, found in instances.items():
        counts = [r.instructions for r in found]
        if len({r.status for r in found}) != 1:
            sys.exit(f"{run.label}: the instances answered differently")
        combined[run] = Result(
            statistics.median(counts), found[0].status, min(counts), max(counts)
        )
    return combined


def report(results: t.Mapping[Run, Result]) -> bool:
    """Print the tables and the targets; return whether all are met."""
    for title, runs in SCENARIOS:
        base = results[runs[0]].instructions
        print(title)
        for run in runs:
            ir, status, low, high = results[run]
            name = run.app if run.count == 10 else f"{run.app} ({run.count})"
            spread = f"  {low:,.0f}-{high:,.0f}" if high > low else ""
            print(f"  {name:<16} {ir:12,.0f} Ir  {ir / base:6.3f}x  ({status}){spread}")
        print()
    counts = {run: result.instructions for run, result in results.items()}
    met = True
    print("Targets")
    for target in TARGETS:
        ratio = target.ratio(counts)
        ok = ratio <= target.limit
        met = met and ok
        print(f"  {'PASS' if ok else 'FAIL'}  {target.name}: {ratio:.3f}x")
    for request in ("https-get", "http-get"):
        extra = [
            counts[Run("ours", request, n)] - counts[Run("bare", request, n)]
            for n in (10, 1000)
        ]
        print(
            f"  ({request}: ours adds {extra[0]:,.0f} Ir with 10 endpoints,"
            f" {extra[1]:,.0f} with 1,000)"
        )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n1", type=int, default=50, help="Requests of the short run.")
    parser.add_argument("--n2", type=int, default=300, help="Requests of the long run.")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Instances of each app to count (median, and the range).",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="valgrind processes at a time."
    )
    parser.add_argument(
        "--check", action="store_true", help="Exit 1 when a target is missed."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child([Run(*r) for r in json.loads(args.child)], args.n1, args.n2)
        return 0
    if shutil.which("valgrind") is None:
        outcome = "cannot check the targets" if args.check else "skipped"
        print(f"valgrind is not installed (apt-get install valgrind): {outcome}")
        return 1 if args.check else 0
    if not 0 < args.n1 < args.n2:
        parser.error("--n1 must be positive and less than --n2")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    runs = list(dict.fromkeys(r for _, rs in SCENARIOS for r in rs))
    runs = [
        dataclasses.replace(r, instance=i) for i in range(args.repeat) for r in runs
    ]
    print(
        f"Instructions per request (callgrind, PYTHONHASHSEED=0):"
        f" (Ir({args.n2}) - Ir({args.n1})) / {args.n2 - args.n1}"
        f"{f', median of {args.repeat} instances' if args.repeat > 1 else ''}\n"
    )
    raw = measure(runs, args.n1, args.n2, args.jobs)
    results = combine(raw)
    met = report(results)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {**dataclasses.asdict(run), **result._asdict()}
                    for run, result in raw.items()
                ],
                indent=2,
            )
        )
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
