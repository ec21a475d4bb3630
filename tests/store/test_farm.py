"""A farm on one machine: three gunicorn masters standing for three hosts,
two workers each (one master with ``--preload``), all reading one
PostgreSQL store (:mod:`farm_app`). ``flask https set`` writes a revision
from the command line, and every worker must apply it:

- with LISTEN/NOTIFY, within 1 s, with a reload interval long enough
  (10 s) that only the notification can explain it;
- with NOTIFY off (as behind PgBouncer in transaction mode), within the
  reload interval plus 1 s.

Each worker reports in its responses the revision it has in force and when
it applied it (its own clock), so the time is measured per worker, from the
revision's own time in the store, and does not depend on which worker
gunicorn gives a request to. The times are printed to the terminal, past
pytest's capture, in a "farm propagation" table. Then a plain HTTP request to each
host is redirected, as the revision says, and ``flask https store status``
shows the six processes, none behind.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_ports
from test_stack import TESTS, fetch, gunicorn

from flask_enforce_https.store import Store

from .farms import farm_env

#: The hosts of the farm: name, and whether its master preloads the app.
HOSTS = [("host-a", False), ("host-b", False), ("host-c", True)]
WORKERS = 2
#: Reload intervals: long with NOTIFY (only the notification can be that
#: quick), short without.
NOTIFY_INTERVAL = 10.0
POLL_INTERVAL = 2.0
#: The promises under test, in seconds.
NOTIFY_WITHIN = 1.0
POLL_WITHIN = POLL_INTERVAL + 1.0
#: Writes measured per mode (``make bench`` measures more).
WRITES = int(os.environ.get("FARM_WRITES", "3"))
#: Bounded waits, in seconds.
WARM_TIMEOUT = 30.0
CLI_TIMEOUT = 60.0
#: The first revision: /state always answers, whatever is forced.
FIRST = {"environment": {"exempt_paths": ["/state"]}}


@dataclass(frozen=True)
class Host:
    """One gunicorn master of the farm."""

    name: str
    port: int


@dataclass(frozen=True)
class Applied:
    """What one worker said it has in force."""

    host: str
    pid: int
    revision: int
    applied_at: float


def ask(host: Host) -> Applied:
    """One ``/state`` request to a host: the worker that answered and what
    it has in force."""
    reply = fetch(host.port, "/state")
    assert reply.status == 200, reply
    return Applied(
        host.name,
        int(reply.header("X-Worker-Pid") or 0),
        int(reply.header("X-Revision") or -1),
        float(reply.header("X-Applied-At") or 0),
    )


def workers_at(
    hosts: list[Host], revision: int, timeout: float
) -> dict[tuple[str, int], Applied]:
    """Ask every host until each of its workers answered with ``revision``
    (or a later one) in force: the first such answer of each worker.

    A worker starts polling at its first request, so this also starts
    every worker's poller. Each host is asked twice per worker at once, so
    that a busy worker leaves the next connection to another.
    """
    found: dict[tuple[str, int], Applied] = {}
    deadline = time.monotonic() + timeout
    asks = [host for host in hosts for _ in range(2 * WORKERS)]
    while True:
        with ThreadPoolExecutor(len(asks)) as pool:
            answers = list(pool.map(ask, asks))
        for answer in answers:
            if answer.revision >= revision:
                found.setdefault((answer.host, answer.pid), answer)
        if all(sum(1 for name, _ in found if name == h.name) == WORKERS for h in hosts):
            return found
        if time.monotonic() > deadline:
            pytest.fail(
                f"after {timeout} s, only these workers have revision"
                f" {revision}: {sorted(found)}"
            )
        time.sleep(0.01)


def flask_https(env: dict[str, str], *args: str) -> str:
    """Run ``flask --app farm_app https ARGS`` as an administrator would."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "farm_app", "https", *args],
        env=env,
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def report(
    mode: str, times: dict[tuple[str, int], list[float]], slowest: float, within: float
) -> str:
    """The propagation table the test prints."""
    lines = [f"\nfarm propagation ({mode}), from the write to each worker's apply:"]
    for (name, pid), seconds in sorted(times.items()):
        lines.append(f"  {name} pid {pid}: " + ", ".join(f"{s:.3f} s" for s in seconds))
    every = sorted(s for seconds in times.values() for s in seconds)
    lines.append(
        f"  {len(every)} applies: median {statistics.median(every):.3f} s,"
        f" slowest {slowest:.3f} s (promise: {within:g} s)"
    )
    return "\n".join(lines)


@contextlib.contextmanager
def farm(
    tmp_path: Path, url: str, *, interval: float, listen: bool
) -> Iterator[list[Host]]:
    """The three hosts, each a gunicorn master with its workers."""
    ports = free_ports(len(HOSTS))
    with contextlib.ExitStack() as stack:
        hosts = []
        for (name, preload), port in zip(HOSTS, ports, strict=True):
            folder = tmp_path / name
            env = farm_env(
                url, folder / "instance", host=name, interval=interval, listen=listen
            )
            stack.enter_context(
                gunicorn(
                    folder,
                    port,
                    env,
                    WORKERS,
                    entry="farm_app:app",
                    preload=preload,
                    ready_path="/state",
                )
            )
            hosts.append(Host(name, port))
        yield hosts


@pytest.mark.parametrize(
    ("listen", "interval", "within"),
    [
        pytest.param(True, NOTIFY_INTERVAL, NOTIFY_WITHIN, id="notify"),
        pytest.param(False, POLL_INTERVAL, POLL_WITHIN, id="polling"),
    ],
)
def test_a_set_reaches_every_worker_of_the_farm(
    tmp_path: Path,
    postgresql_url: str,
    capsys: pytest.CaptureFixture[str],
    listen: bool,
    interval: float,
    within: float,
) -> None:
    with Store(postgresql_url) as store:
        store.init()
        store.apply(FIRST, 0, "farm-test", "import")
    admin = farm_env(
        postgresql_url,
        tmp_path / "admin",
        host="admin",
        interval=interval,
        listen=listen,
    )

    with farm(tmp_path, postgresql_url, interval=interval, listen=listen) as hosts:
        workers_at(hosts, 1, WARM_TIMEOUT)
        times: dict[tuple[str, int], list[float]] = {}
        # Seeded: a run that fails can be run again with the same phases.
        phases = random.Random(WRITES)  # noqa: S311 (timing, not a secret)
        for turn in range(WRITES):
            value = "true" if turn % 2 == 0 else "false"
            if not listen:
                # Writes at every phase of the workers' polls, not in step
                # with them as back-to-back writes would fall.
                time.sleep(phases.uniform(0, interval))
            flask_https(
                admin,
                "set",
                f"force_https_screens={value}",
                "--application",
                "storefront",
                "--reason",
                f"farm test {turn}",
            )
            with Store(postgresql_url) as store:
                head = store.head()
            assert head is not None
            written = head.created_at.timestamp()
            for key, answer in workers_at(hosts, head.number, within + 5).items():
                assert answer.revision == head.number, answer
                times.setdefault(key, []).append(answer.applied_at - written)

            expected = 301 if value == "true" else 200
            for host in hosts:
                assert fetch(host.port, "/").status == expected, host

        mode = "NOTIFY" if listen else f"polling every {interval:g} s"
        slowest = max(max(s) for s in times.values())
        with capsys.disabled():
            print(report(mode, times, slowest, within))
        assert len(times) == len(HOSTS) * WORKERS
        assert slowest <= within, times

        # Each worker beats after it applies a revision.
        deadline = time.monotonic() + 5
        while True:
            status = flask_https(admin, "store", "status", "--url", postgresql_url)
            if (
                f"Processes: {len(HOSTS) * WORKERS}, 0 behind" in status
                or time.monotonic() > deadline
            ):
                break
            time.sleep(0.2)
        assert f"Processes: {len(HOSTS) * WORKERS}, 0 behind" in status, status
