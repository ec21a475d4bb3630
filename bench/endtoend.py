"""Requests per second through a real server: gunicorn on loopback, driven
by wrk, for bare Flask, flask-talisman and flask-enforce-https.

Each app is served by its own gunicorn (sync workers) on a loopback port,
as a reverse proxy on the same machine would reach it: every request says
``X-Forwarded-Proto: https``, from 127.0.0.1, and ours trusts 127.0.0.1
(``trusted_proxies``). Rounds of wrk interleave the apps, so that drift in
the machine hits them alike; the median and the spread of the rounds are
reported. On a shared machine that spread is several per cent: this shows
where the extension's cost goes behind a real server, it is not a target.

Run with ``make bench`` (or ``python bench/endtoend.py --help``). Skipped,
with a message, when wrk or gunicorn is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

# The apps of apps.FACTORIES to serve, and what the table calls them.
APPS = {
    "bare": "bare Flask",
    "talisman": "flask-talisman",
    "ours-proxy": "flask-enforce-https",
}
HEADER = "X-Forwarded-Proto: https"
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_ERRORS = re.compile(r"Socket errors: (.*)")


class BenchError(Exception):
    """A server or wrk did not run as it should."""


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(proc: subprocess.Popen[bytes], port: int) -> None:
    """Wait for gunicorn to accept connections on ``port``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn on port {port} exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1),
        ):
            return
        time.sleep(0.1)
    raise BenchError(f"gunicorn on port {port} did not start within 30 s")


@contextlib.contextmanager
def serve(name: str, workers: int) -> t.Iterator[str]:
    """Serve the app ``name`` with gunicorn; yield its URL."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own command line
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(Path(__file__).parent),
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "sync",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            f"apps:create({name!r})",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(proc, port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(url: str, seconds: int, connections: int) -> float:
    """Requests per second of one wrk run against ``url``."""
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--header",
        HEADER,
        url,
    ]
    try:
        proc = subprocess.run(  # noqa: S603 - our own command line
            command, capture_output=True, text=True, timeout=seconds + 30, check=True
        )
    except subprocess.CalledProcessError as e:
        raise BenchError(f"wrk failed on {url}: {e.stderr or e.stdout}") from e
    except (subprocess.SubprocessError, OSError) as e:
        raise BenchError(f"wrk failed on {url}: {e}") from e
    bad = _NON_2XX.search(proc.stdout)
    if bad:
        raise BenchError(f"{url} answered {bad.group(1)} requests with an error")
    errors = _ERRORS.search(proc.stdout)
    if errors:
        print(f"  (wrk on {url}: socket errors: {errors.group(1)})")
    rate = _RATE.search(proc.stdout)
    if rate is None:
        raise BenchError(f"no Requests/sec in wrk's output:\n{proc.stdout}")
    return float(rate.group(1))


def measure(
    urls: dict[str, str], rounds: int, seconds: int, connections: int
) -> dict[str, list[float]]:
    """Requests per second of each app, one figure per round."""
    for url in urls.values():
        wrk(url, 1, connections)  # warm up: workers forked, caches filled
    samples: dict[str, list[float]] = {name: [] for name in urls}
    names = list(urls)
    for round_ in range(rounds):
        # Rotate the order so no app always runs first or last.
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            samples[name].append(wrk(urls[name], seconds, connections))
    return samples


def missing() -> str | None:
    """Why the end-to-end run cannot run here, if it cannot."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    if importlib.util.find_spec("gunicorn") is None:
        return "gunicorn is not installed (pip install gunicorn)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--seconds", type=int, default=2, help="Duration of each wrk run."
    )
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers.")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)
    reason = missing()
    if reason is not None:
        print(f"End-to-end benchmark skipped: {reason}.")
        return 0
    print(
        f"gunicorn, {args.workers} sync worker(s); wrk, 1 thread,"
        f" {args.connections} connections, {args.seconds} s per round,"
        f" {args.rounds} interleaved rounds; GET / with '{HEADER}' from 127.0.0.1\n"
    )
    try:
        with contextlib.ExitStack() as stack:
            urls = {
                name: stack.enter_context(serve(name, args.workers)) for name in APPS
            }
            samples = measure(urls, args.rounds, args.seconds, args.connections)
    except BenchError as e:
        print(f"End-to-end benchmark failed: {e}", file=sys.stderr)
        return 1
    base = statistics.median(samples["bare"])
    print(f"  {'':<22} {'req/s':>7}  {'ratio':>6}  {'IQR':>11}  {'min-max':>11}")
    for name, rates in samples.items():
        median = statistics.median(rates)
        q1, _, q3 = statistics.quantiles(rates, n=4) if len(rates) > 1 else [median] * 3
        print(
            f"  {APPS[name]:<22} {median:7.0f}  {median / base:5.3f}x"
            f"  {q1:5.0f}-{q3:<5.0f}  {min(rates):5.0f}-{max(rates):<5.0f}"
            f"  (IQR {(q3 - q1) / median * 100:.0f}% of the median)"
        )
    if args.json:
        args.json.write_text(json.dumps(samples, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
