"""Hot reload under load: gunicorn's workers follow a settings file that is
rewritten under them, badly too, without failing a request.

gunicorn runs :mod:`stack_app` with 4 workers and a reload interval of
0.5 s. Client threads send requests without pause, each on a new
connection, to a screen (``/``), the exempt health check (``/healthz``), the
REST API (as HTTPS, in ``X-Forwarded-Proto`` from the trusted 127.0.0.1)
and the SOAP service's WSDL, while the test rewrites the settings file some
60 times in every way an administrator or a tool might: whole new versions
renamed over it, ``flask https set`` in a subprocess, same-size edits in
place (``true `` for ``false``), invalid versions (TOML syntax, a wrong
type, an unknown key, a bad value, an environment key in an application),
a file truncated and half written in place then finished, and a file
deleted and made again.

Every valid version exempts ``/healthz`` and sends, if any, an HSTS max-age
from a known set; every invalid one, were it applied, would redirect
``/healthz`` and send ``max-age=999``. The last three versions, each with
its own max-age, are written by ``flask https set``, by a rename, and by a
same-size edit in place that keeps the file's mtime (as two writes within
one tick of a file system with 2-second timestamps would). So the
assertions are: no 5xx and no connection error; no worker restarted; no
response that no valid version gives; and for each of the last three
versions, every request that starts once the reload interval plus one
second has passed since it was written gets it, from every worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import free_ports
from processes import Process
from test_stack import (
    app_env,
    fetch,
    gunicorn,
    instance_with,
    require_gunicorn,
)

from flask_enforce_https.errors import SettingsError
from flask_enforce_https.sources import parse_file

RELOAD_INTERVAL = 0.5
#: The promise under test: applied within the interval plus one second.
SETTLE = RELOAD_INTERVAL + 1.0
#: How long a bad state (invalid, half written, missing) is left in place:
#: long enough for every worker to check the file at least once.
HOLD = RELOAD_INTERVAL + 0.1
#: The pause after an ordinary write.
GAP = 0.1
#: How long responses are checked against each of the last versions once
#: it settled, before the next is written.
OBSERVE = 1.0
WORKERS = 4
CLIENTS = 4
CYCLES = 9
#: Bounded waits, in seconds.
LEARN_TIMEOUT = 20.0
COVER_TIMEOUT = 15.0
REQUEST_TIMEOUT = 10.0
JOIN_TIMEOUT = REQUEST_TIMEOUT + 5.0

# --- The versions --------------------------------------------------------------


def flag(value: bool) -> str:
    """A TOML boolean, padded so that ``true `` and ``false`` are the same size."""
    return "true " if value else "false"


def valid(*, screens: bool, integrations: bool, hsts: bool, max_age: int = 600) -> str:
    """A valid version: it exempts /healthz, trusts 127.0.0.1 and sends HSTS
    to every host when on. The padding keeps every version the same size."""
    assert 100 <= max_age <= 999
    return f"""\
# A valid version: /healthz is always exempt.
[environment]
exempt_paths = ["/healthz"]
trusted_proxies = ["127.0.0.1"]
hsts_excluded_hosts = []
hsts = {flag(hsts)}
hsts_max_age = {max_age}

[applications.storefront]
force_https_screens = {flag(screens)}

[applications.orders]
force_https_integrations = {flag(integrations)}
"""


_INVALID = """\
# An invalid version: applied, it would redirect /healthz and send max-age=999.
[environment]
trusted_proxies = ["127.0.0.1"]
hsts_excluded_hosts = []
hsts = true
hsts_max_age = 999
force_https_integrations = true
{environment}
[applications.storefront]
force_https_screens = true
{storefront}
"""

#: Invalid versions by what is wrong with them.
INVALID = {
    "toml-syntax": _INVALID.format(environment='exempt_paths = ["/x"', storefront=""),
    "wrong-type": _INVALID.format(environment='secure_cookies = "yes"', storefront=""),
    "unknown-key": _INVALID.format(environment="force_https_all = true", storefront=""),
    "bad-value": _INVALID.format(
        environment='exempt_paths = ["healthz"]', storefront=""
    ),
    "environment-key-in-app": _INVALID.format(
        environment="", storefront="hsts = false"
    ),
}
#: What the invalid versions would be without their defect.
INVALID_BUT_FOR_ITS_DEFECT = _INVALID.format(environment="", storefront="")


def final(max_age: int) -> str:
    """A version of the last rounds: HSTS on (so every screen is
    redirected), integrations forced, and its own HSTS max-age."""
    return valid(screens=False, integrations=True, hsts=True, max_age=max_age)


#: The HSTS values valid versions give.
VALID_HSTS = {None, *(f"max-age={age}" for age in (600, 700, 800, 850, 870, 900))}


def toggles(index: int, variant: int) -> dict[str, bool]:
    """The toggles of the ``variant``-th valid version of cycle ``index``:
    they vary from one version to the next."""
    n = 3 * index + variant
    return {"screens": n % 2 == 0, "integrations": n % 3 == 0, "hsts": n % 4 == 1}


def cycle_version(index: int, variant: int) -> str:
    """The ``variant``-th valid version of cycle ``index``."""
    return valid(**toggles(index, variant))


def set_command(turn: int, now: dict[str, bool]) -> tuple[str, ...]:
    """The ``turn``-th ``flask https set`` command: it changes one setting
    of the version ``now`` (never "nothing changed"), to another valid
    version."""
    commands = [
        (
            f"force_https_screens={str(not now['screens']).lower()}",
            "--application",
            "storefront",
        ),
        (
            f"force_https_integrations={str(not now['integrations']).lower()}",
            "--application",
            "orders",
        ),
        ("hsts_max_age=700",),
        (f"hsts={str(not now['hsts']).lower()}",),
    ]
    return commands[turn % len(commands)]


# --- Requests ----------------------------------------------------------------

#: What the clients ask for, by name: path and headers.
PROBES: dict[str, tuple[str, dict[str, str]]] = {
    "home": ("/", {}),
    "health": ("/healthz", {}),
    "rest": ("/orders/api/orders", {"X-Forwarded-Proto": "https"}),
    "wsdl": ("/orders/soap?wsdl", {}),
}


@dataclass(frozen=True)
class Sample:
    """One response: to what, when it was asked for and read, and what it
    said."""

    probe: str
    started: float
    finished: float
    status: int
    pid: int | None
    hsts: str | None


def valid_outcome(sample: Sample) -> bool:
    """Whether some valid version gives this response."""
    if sample.probe == "home":
        return sample.status in (200, 301)
    if sample.probe == "health":
        return sample.status == 200
    if sample.probe == "rest":
        return sample.status == 200 and sample.hsts in VALID_HSTS
    return sample.status in (200, 403)  # wsdl


def final_outcome(sample: Sample, max_age: int) -> bool:
    """Whether this response is what :func:`final` gives: HSTS with
    ``max_age`` (so every screen redirected), integrations forced,
    /healthz exempt."""
    expected = {"home": 301, "health": 200, "rest": 200, "wsdl": 403}[sample.probe]
    hsts_ok = sample.probe != "rest" or sample.hsts == f"max-age={max_age}"
    return sample.status == expected and hsts_ok


@dataclass(frozen=True)
class Round:
    """One of the last versions, and when it was written.

    :param max_age: Its HSTS max-age, which says which version a response
        is of.
    :param began: When writing it began.
    :param written: When it was written.
    """

    max_age: int
    began: float
    written: float

    @property
    def settled(self) -> float:
        """From when on every worker must serve it."""
        return self.written + SETTLE


@dataclass
class Load:
    """Client threads sending requests without pause, each on a new
    connection, until stopped."""

    port: int
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, first: int) -> None:
        names = list(PROBES)
        turn = first
        while not self.stop.is_set():
            name = names[turn % len(names)]
            turn += 1
            path, headers = PROBES[name]
            started = time.monotonic()
            try:
                reply = fetch(
                    self.port,
                    path,
                    headers={**headers, "Connection": "close"},
                    timeout=REQUEST_TIMEOUT,
                )
                sample = Sample(
                    name,
                    started,
                    time.monotonic(),
                    reply.status,
                    reply.pid,
                    reply.header("Strict-Transport-Security"),
                )
            except Exception as e:  # every failure counts, whatever it is
                self.errors.append(f"{name} at {started:.3f}: {e!r}")
                time.sleep(0.05)
                continue
            self.samples.append(sample)

    def taken(self) -> list[Sample]:
        """The samples so far (a copy: the threads keep adding)."""
        return list(self.samples)


@contextmanager
def load(port: int) -> Iterator[Load]:
    """Run CLIENTS client threads against ``port`` for the context."""
    state = Load(port)
    threads = [
        threading.Thread(target=state.run, args=(i,), name=f"load-{i}", daemon=True)
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client hung"


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, server: Process
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(server.failure(f"{what}: not within {timeout} s"))
        if server.popen.poll() is not None:
            pytest.fail(server.failure("gunicorn exited"))
        time.sleep(0.1)


# --- Writing the settings file -------------------------------------------------


@dataclass
class Writer:
    """Rewrites the settings file every way, counting the writes."""

    path: Path
    env: dict[str, str]
    writes: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def _count(self, kind: str, writes: int = 1) -> None:
        self.writes += writes
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def replace(self, text: str) -> None:
        """Write a temporary file and rename it over the settings."""
        temporary = self.path.with_name(f".{self.path.name}.new")
        temporary.write_text(text)
        os.replace(temporary, self.path)
        self._count("atomic replace")

    def overwrite(self, text: str) -> None:
        """Truncate and write in place, as an editor without a rename would."""
        self.path.write_text(text)
        self._count("overwrite in place")

    def same_size(self, old: str, new: str) -> None:
        """Write only the bytes that differ, in place: same inode, same size."""
        before, after = old.encode(), new.encode()
        assert len(before) == len(after)
        assert before != after
        assert self.path.read_bytes() == before
        start = next(i for i in range(len(before)) if before[i] != after[i])
        end = len(before) - next(
            i for i in range(len(before)) if before[-1 - i] != after[-1 - i]
        )
        with self.path.open("r+b") as f:
            f.seek(start)
            f.write(after[start:end])
        self._count("same-size edit")

    def half_written(self, text: str, cut: int) -> None:
        """Truncate in place, write the first ``cut`` bytes, hold, finish."""
        data = text.encode()
        with self.path.open("r+b") as f:
            f.truncate(0)
            f.write(data[:cut])
            f.flush()
            time.sleep(HOLD)
            f.write(data[cut:])
        self._count("half written, then finished", 2)

    def recreate(self, text: str) -> None:
        """Delete the file, hold, and write it again."""
        self.path.unlink()
        time.sleep(HOLD)
        self.path.write_text(text)
        self._count("deleted and recreated")

    def flask_set(self, *arguments: str) -> None:
        """``flask https set ARGUMENTS``, as an administrator would."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "example_app.storefront",
                "https",
                "set",
                *arguments,
            ],
            cwd=self.path.parent,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Written to" in result.stdout, result.stdout
        self._count("flask https set")


def partial_cut(text: str) -> int:
    """Where to cut ``text`` so that its start is not valid TOML: inside
    the string "/healthz"."""
    return text.encode().index(b'"/healthz"') + 4


# --- The test ----------------------------------------------------------------


def test_the_versions_are_what_the_test_needs(tmp_path: Path) -> None:
    """Valid versions load; invalid ones do not, and would be visible if
    they did; half-written ones are invalid."""
    path = tmp_path / "settings.toml"
    sizes = set()
    for text in [final(age) for age in (800, 850, 870, 900)] + [
        cycle_version(i, v) for i in range(CYCLES) for v in range(3)
    ]:
        settings = parse_file(path, text.encode())
        assert settings.environment.exempt_paths == ("/healthz",)
        sizes.add(len(text))
        with pytest.raises(SettingsError):
            parse_file(path, text.encode()[: partial_cut(text)])
    assert len(sizes) == 1, "every valid version has the same size"
    for text in INVALID.values():
        with pytest.raises(SettingsError):
            parse_file(path, text.encode())
    would_be = parse_file(path, INVALID_BUT_FOR_ITS_DEFECT.encode())
    assert would_be.environment.exempt_paths == ()
    assert would_be.application("storefront").force_https_screens
    assert would_be.environment.hsts_max_age == 999


def test_reload_under_load(tmp_path: Path) -> None:
    require_gunicorn()
    port = free_ports(1)[0]
    instance = instance_with(
        tmp_path, valid(screens=False, integrations=False, hsts=False)
    )
    settings = instance / "settings.toml"
    env = app_env(instance, https_port=8443, reload_interval=RELOAD_INTERVAL)
    writer = Writer(settings, env)
    invalid = list(INVALID.items())
    with (
        gunicorn(tmp_path / "gunicorn", port, env, workers=WORKERS) as server,
        load(port) as clients,
    ):
        # Learn the workers, from their answers.
        wait_until(
            lambda: len({s.pid for s in clients.taken()}) >= WORKERS,
            LEARN_TIMEOUT,
            f"answers from {WORKERS} workers",
            server,
        )
        workers = {s.pid for s in clients.taken()}
        assert len(workers) == WORKERS, workers
        assert None not in workers, "an answer without X-Worker-Pid"

        for index in range(CYCLES):
            # A new version, renamed over the file; a same-size edit of it.
            current = cycle_version(index, 0)
            writer.replace(current)
            time.sleep(GAP)
            edited = current.replace("= true ", "= false", 1)
            if edited == current:
                edited = current.replace("= false", "= true ", 1)
            writer.same_size(current, edited)
            time.sleep(GAP)
            # An invalid version, left in place for a while.
            _, bad = invalid[index % len(invalid)]
            if index % 2:
                writer.replace(bad)
            else:
                writer.overwrite(bad)
            time.sleep(HOLD)
            # Half written in place (invalid meanwhile), then finished.
            current = cycle_version(index, 1)
            writer.half_written(current, partial_cut(current))
            time.sleep(GAP)
            # Gone for a while, then back.
            current = cycle_version(index, 2)
            writer.recreate(current)
            time.sleep(GAP)
            if index % 2:
                writer.flask_set(*set_command(index // 2, toggles(index, 2)))
                time.sleep(GAP)

        # The last versions, each given time to reach every worker: by
        # `flask https set`; renamed over the file; and two same-size edits
        # in place within one timestamp tick of a file system with 2-second
        # timestamps (FAT's): same inode, size and mtime, only the content
        # tells them apart.
        def by_flask_set() -> None:
            writer.flask_set(
                "hsts=true", "hsts_max_age=800", "force_https_integrations=true"
            )

        def by_replace() -> None:
            writer.replace(final(850))

        def in_one_timestamp_tick() -> None:
            writer.same_size(final(850), final(870))
            tick = settings.stat().st_mtime_ns
            time.sleep(HOLD)  # the workers check the file meanwhile
            writer.same_size(final(870), final(900))
            os.utime(settings, ns=(settings.stat().st_atime_ns, tick))

        rounds: list[Round] = []
        for max_age, write in (
            (800, by_flask_set),
            (850, by_replace),
            (900, in_one_timestamp_tick),
        ):
            began = time.monotonic()
            write()
            this = Round(max_age, began, time.monotonic())
            rounds.append(this)

            def observed(this: Round = this) -> bool:
                if time.monotonic() < this.settled + OBSERVE:
                    return False
                late = [s for s in clients.taken() if s.started >= this.settled]
                return {s.pid for s in late if s.probe == "rest"} >= workers

            wait_until(
                observed,
                SETTLE + OBSERVE + COVER_TIMEOUT,
                f"answers from every worker once max-age={max_age} settled",
                server,
            )
        assert server.popen.poll() is None, server.failure("gunicorn exited")
    samples = clients.taken()
    log = server.output()

    summary = (
        f"{len(samples)} responses, {len(clients.errors)} errors,"
        f" {writer.writes} writes {writer.kinds}"
    )
    assert writer.writes >= 50, summary
    assert not clients.errors, f"{summary}\n" + "\n".join(clients.errors[:20])
    server_errors = [s for s in samples if s.status >= 500]
    assert not server_errors, f"{summary}\n{server_errors[:20]}\n{log[-4000:]}"
    strangers = {s.pid for s in samples} - workers
    assert not strangers, f"workers restarted or unknown: {strangers}\n{log[-4000:]}"
    impossible = [s for s in samples if not valid_outcome(s)]
    assert not impossible, (
        f"responses no valid version gives: {impossible[:20]}\n{summary}"
    )
    for this, after in zip(rounds, [*rounds[1:], None], strict=True):
        # Answered after it settled, and before the next round was written.
        late = [
            s
            for s in samples
            if s.started >= this.settled and (after is None or s.finished < after.began)
        ]
        stale = [s for s in late if not final_outcome(s, this.max_age)]
        assert not stale, (
            f"responses of another version than max-age={this.max_age}, {SETTLE} s"
            f" after it was written: {stale[:20]}\n{summary}"
        )
        assert {s.pid for s in late} >= workers, "a worker was not observed"
    # The bad states were seen, and refused: each worker logs a rejection.
    assert "settings not reloaded" in log, f"no rejection logged\n{log[-4000:]}"
    # For the record: how long after each round was written each worker
    # first served it (not asserted: only the bound above is promised).
    delays = {
        this.max_age: sorted(
            min(
                (
                    round(s.started - this.written, 2)
                    for s in samples
                    if s.pid == pid and s.hsts == f"max-age={this.max_age}"
                ),
                default=-1.0,
            )
            for pid in workers
        )
        for this in rounds
    }
    print(f"{summary}; each round first served by each worker after {delays} s")
