"""Faults under load: gunicorn's workers keep serving, with the last good
settings, while their settings store fails under them, and catch up when it
answers again.

gunicorn serves :mod:`farm_app` with 2 workers; their store is a fresh
schema on the test PostgreSQL server, which they reach through a
:class:`~tcpproxy.TCPProxy` on the loopback. The test writes revisions
directly, never through the proxy, and never stops the shared server. Each
response names its worker, the revision it enforces and when it applied it
(``X-Worker-Pid``, ``X-Revision``, ``X-Applied-At``).

``test_postgresql_unreachable_under_load``
    Client threads send requests without pause while the proxy is cut for
    8 reload intervals and a second revision is written. No 5xx and no
    connection error; during the cut every worker still enforces the first
    revision (``/`` redirected: never the defaults, which would serve it);
    after, every worker applies the second within the poller's longest
    backoff, an interval and 2 s, and logs the outage once and its end once.
    It prints each worker's recovery time (``pytest -s``).

``test_a_killed_listen_connection``
    Polls are 30 s apart, so only a notification is quick. The workers'
    LISTEN connections are killed on the server (``pg_terminate_backend``):
    they listen again, and a revision written then is applied at once. Or,
    with new connections refused while it is written, its notification is
    lost: they catch up by reading the head when they reconnect.

Without gunicorn or PostgreSQL these tests skip, loudly; with ``CI`` set
they fail.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import free_ports
from processes import Process
from test_stack import fetch, gunicorn, require_gunicorn

from flask_enforce_https.store import Store
from flask_enforce_https.store.poller import MAX_BACKOFF

from .farms import farm_env
from .tcpproxy import TCPProxy

WORKERS = 2
PATHS = ("/", "/api/orders")
#: Bounded waits, in seconds.
REQUEST_TIMEOUT = 10.0
JOIN_TIMEOUT = REQUEST_TIMEOUT + 5.0
WARM_TIMEOUT = 15.0

FIRST = {
    "environment": {"exempt_paths": ["/state"]},
    "applications": {"storefront": {"force_https_screens": True}},
}
SECOND = {
    "environment": {"exempt_paths": ["/state"], "hsts_max_age": 600},
    "applications": {"storefront": {"force_https_screens": False}},
}
#: What plain HTTP to ``/`` gets under each revision.
HOME = {1: 301, 2: 200}


@dataclass(frozen=True)
class Sample:
    """One response: to what, when (monotonic), and what it said."""

    path: str
    started: float
    finished: float
    status: int
    pid: int
    revision: int
    applied_at: float


def probe(port: int, path: str) -> Sample:
    """Ask ``path`` over a new connection, plain HTTP."""
    started = time.monotonic()
    reply = fetch(port, path, headers={"Connection": "close"}, timeout=REQUEST_TIMEOUT)
    assert reply.pid is not None, (path, reply.status, reply.body)
    # A header missing would be -1 and nan: no revision, nor time, says so.
    revision = int(reply.header("X-Revision") or -1)
    applied_at = float(reply.header("X-Applied-At") or "nan")
    done = time.monotonic()
    return Sample(path, started, done, reply.status, reply.pid, revision, applied_at)


@contextmanager
def load(port: int) -> Iterator[tuple[list[Sample], list[str]]]:
    """Four threads sending requests without pause, each on a new
    connection, for the context: what they got, and every failure."""
    samples: list[Sample] = []
    errors: list[str] = []
    stop = threading.Event()

    def run(turn: int) -> None:
        while not stop.is_set():
            path = PATHS[turn % len(PATHS)]
            turn += 1
            try:
                samples.append(probe(port, path))
            except Exception as e:  # every failure counts, whatever it is
                errors.append(f"{path} at {time.monotonic():.3f}: {e!r}")
                time.sleep(0.05)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        yield samples, errors
    finally:
        stop.set()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client hung"


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, server: Process
) -> float:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds.
    Return how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(server.failure(f"{what}: not within {timeout} s"))
        if server.popen.poll() is not None:
            pytest.fail(server.failure("gunicorn exited"))
        time.sleep(0.05)
    return time.monotonic() - start


def every_worker(
    port: int, revision: int, server: Process, timeout: float
) -> dict[int, Sample]:
    """Ask ``/state``, 4 at once (so that a busy worker leaves the
    next connection to another), until every worker answered with
    ``revision``; the first such answer of each worker."""
    found: dict[int, Sample] = {}

    def done() -> bool:
        with ThreadPoolExecutor(4) as pool:
            for sample in pool.map(lambda _: probe(port, "/state"), range(4)):
                assert sample.status == 200, sample
                if sample.revision == revision:
                    found.setdefault(sample.pid, sample)
        return len(found) >= WORKERS

    wait_until(done, timeout, f"every worker on revision {revision}", server)
    assert len(found) == WORKERS, f"more workers than {WORKERS}: {found}"
    return found


@dataclass(frozen=True)
class Farm:
    """gunicorn, the proxy its workers reach the store through, the port it
    serves and its workers' pids."""

    proxy: TCPProxy
    server: Process
    port: int
    pids: set[int]


@contextmanager
def farm(tmp_path: Path, postgresql_url: str, interval: float) -> Iterator[Farm]:
    """The store (its tables, the first revision), a proxy to its server and
    gunicorn reaching the store through the proxy, once every worker applied
    the first revision."""
    require_gunicorn()
    with Store(postgresql_url) as store:
        store.init()
        assert store.apply(FIRST, 0, "test", "cli", "faults: first") == 1
    url = sa.make_url(postgresql_url)
    (port,) = free_ports(1)
    with TCPProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        env = farm_env(proxied, tmp_path / "instance", interval=interval)
        with gunicorn(
            tmp_path / "gunicorn",
            port,
            env,
            WORKERS,
            entry="farm_app:app",
            ready_path="/state",
        ) as server:
            # A worker's poller starts with its first request.
            pids = set(every_worker(port, 1, server, WARM_TIMEOUT))
            yield Farm(proxy, server, port, pids)


def write_second(postgresql_url: str) -> int:
    """Write SECOND over revision 1, directly (not through the proxy)."""
    with Store(postgresql_url) as store:
        return store.apply(SECOND, 1, "test", "cli", "faults: second")


def log_lines(server: Process, message: str) -> dict[int, int]:
    """How many lines of the extension's log match the regular expression
    ``message``, by the pid that wrote them."""
    pattern = rf"\[(\d+)\] \[flask_enforce_https\] \w+: {message}"
    return dict(Counter(int(pid) for pid in re.findall(pattern, server.output())))


#: The log lines of an outage, and of its end ("until it answers again" is
#: in the first: hence the URL in the second).
UNREACHABLE = "settings store unreachable, revision"
ANSWERS_AGAIN = r"settings store \S+ answers again after"


# --- PostgreSQL unreachable ------------------------------------------------------

INTERVAL = 0.5
CUT = 8 * INTERVAL
#: The poller's longest wait between tries, one more poll, and 2 s of slack.
RECOVERY = MAX_BACKOFF + INTERVAL + 2.0
OBSERVE = 1.0


def test_postgresql_unreachable_under_load(tmp_path: Path, postgresql_url: str) -> None:
    with (
        farm(tmp_path, postgresql_url, INTERVAL) as f,
        load(f.port) as (samples, errors),
    ):
        time.sleep(OBSERVE)
        cut_at = time.monotonic()
        assert f.proxy.cut() >= WORKERS  # each has its listener at least
        time.sleep(CUT / 4)
        assert write_second(postgresql_url) == 2
        time.sleep(max(0.0, cut_at + CUT - time.monotonic()))
        restored_wall, restored_at = time.time(), time.monotonic()
        f.proxy.restore()

        def caught_up() -> bool:
            return {s.pid for s in samples[:] if s.revision == 2} >= f.pids

        wait_until(caught_up, RECOVERY + 5.0, "revision 2 everywhere", f.server)
        caught_up_at = time.monotonic()
        time.sleep(OBSERVE)
        # The end of the outage is logged after the apply and a heartbeat.
        once = dict.fromkeys(f.pids, 1)
        wait_until(
            lambda: log_lines(f.server, ANSWERS_AGAIN) == once,
            5.0,
            f"'answers again' logged once per worker {once}",
            f.server,
        )
    assert not errors, errors[:10]
    assert not [s for s in samples if s.status >= 500], "5xx responses"
    assert {s.pid for s in samples} == f.pids, "a worker was replaced"
    assert {s.revision for s in samples} == {1, 2}, "the defaults were in force"
    for sample in samples:
        assert sample.status == (HOME[sample.revision] if sample.path == "/" else 200)
    during = [s for s in samples if cut_at <= s.started and s.finished <= restored_at]
    assert len(during) > 10, "too few requests during the cut"
    # The last good settings stay: screens redirected, as revision 1 says.
    assert {(s.revision, s.status) for s in during if s.path == "/"} == {(1, 301)}
    after = [s for s in samples if s.path == "/" and s.started >= caught_up_at]
    assert after, "no request after every worker caught up"
    assert {(s.revision, s.status) for s in after} == {(2, 200)}
    for pid in sorted(f.pids):
        # Each worker applied revision 2 once: one time in all its answers.
        (applied_at,) = {
            s.applied_at for s in samples if (s.pid, s.revision) == (pid, 2)
        }
        recovery = applied_at - restored_wall
        print(f"\nRECOVERY after a {CUT:.1f} s outage, worker {pid}: {recovery:.2f} s")
        assert 0 < recovery <= RECOVERY, (pid, recovery)
    # One line per outage and one at its end, not one per poll.
    output = f.server.output()
    assert log_lines(f.server, UNREACHABLE) == once, output
    assert log_lines(f.server, ANSWERS_AGAIN) == once, output
    assert log_lines(f.server, "settings store poller failed") == {}, output


# --- A killed LISTEN connection --------------------------------------------------

SLOW_POLLS = 30.0
#: How soon a notification must be applied.
NOTIFIED = 2.0
LISTENERS = sa.text(
    "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'"
    " AND state = 'idle' AND datname = current_database()"
    " AND client_port = ANY(:ports)"
)
TERMINATE = sa.text(
    "SELECT count(*) FROM unnest(CAST(:pids AS int[])) AS pid"
    " WHERE pg_terminate_backend(pid)"
)


def listeners(engine: sa.Engine, proxy: TCPProxy) -> set[int]:
    """The backends LISTENing (done: idle after it) through this proxy: its
    ports tell the workers' from other tests' and other runs'."""
    with engine.connect() as connection:
        ports = sorted(proxy.upstream_ports()) or [0]
        return set(connection.execute(LISTENERS, {"ports": ports}).scalars())


@pytest.mark.parametrize(
    "lost",
    [
        pytest.param(False, id="written-after-they-listen-again"),
        pytest.param(True, id="written-while-they-cannot-listen"),
    ],
)
def test_a_killed_listen_connection(
    tmp_path: Path, postgresql_url: str, postgresql_engine: sa.Engine, lost: bool
) -> None:
    with farm(tmp_path, postgresql_url, SLOW_POLLS) as f:
        wait_until(
            lambda: len(listeners(postgresql_engine, f.proxy)) == WORKERS,
            5.0,
            "one listener per worker",
            f.server,
        )
        killed = listeners(postgresql_engine, f.proxy)
        if lost:
            f.proxy.refuse()
        with postgresql_engine.connect() as connection:
            # As an administrator would; one listener per worker goes.
            terminated = connection.execute(TERMINATE, {"pids": sorted(killed)})
            assert terminated.scalar_one() == WORKERS
        killed_at = time.time()
        if not lost:

            def relistened() -> bool:
                now = listeners(postgresql_engine, f.proxy)
                return len(now) == WORKERS and not now & killed

            took = wait_until(relistened, 5.0, "listening again", f.server)
            print(f"\nLISTEN again after pg_terminate_backend: {took:.2f} s")
        written_at = time.time()
        assert write_second(postgresql_url) == 2
        if lost:
            # Nobody listens and polls are 30 s apart: revision 1 stays
            # until the workers reconnect.
            time.sleep(1.0)
            every_worker(f.port, 1, f.server, 5.0)
            f.proxy.restore()
        since, bound = (
            (killed_at, MAX_BACKOFF + 5.0) if lost else (written_at, NOTIFIED)
        )
        applied = every_worker(f.port, 2, f.server, bound + 5.0)
        for pid, sample in sorted(applied.items()):
            took = sample.applied_at - since
            print(
                f"\nREVISION 2 applied by worker {pid} {took:.2f} s after the "
                + ("kill" if lost else "write")
            )
            assert took <= bound, (pid, took)
        # A killed listener is not an outage; new connections refused are.
        # Its end is logged after the revision is applied, and a heartbeat.
        outages = dict.fromkeys(f.pids, 1) if lost else {}
        wait_until(
            lambda: log_lines(f.server, ANSWERS_AGAIN) == outages,
            5.0,
            f"'answers again' logged {outages}",
            f.server,
        )
        assert log_lines(f.server, UNREACHABLE) == outages, f.server.output()
