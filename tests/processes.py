"""Real server processes for the tests: start one, wait until it is ready,
and stop it whatever happens, showing its output when something fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: How long a server may take to be ready.
START_TIMEOUT = 30.0
#: How long a server may take to stop after SIGTERM, and again after SIGKILL.
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Process:
    """A server running in a subprocess, its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What it printed so far, stdout and stderr."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def failure(self, message: str) -> str:
        """``message``, then the process's output."""
        return f"{message}\n--- {self.name} output ({self.log}) ---\n{self.output()}"


def stop(process: Process) -> None:
    """Stop ``process``: SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`,
    then SIGKILL to whatever it left in its own session (gunicorn's workers,
    say). A process that outlives SIGKILL fails the test with its output."""
    popen = process.popen
    if popen.poll() is None:
        popen.terminate()
        try:
            popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            popen.kill()
            try:
                popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pytest.fail(
                    process.failure(f"{process.name} outlived SIGKILL"), pytrace=False
                )
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(
    name: str,
    command: list[str],
    *,
    log: Path,
    cwd: Path,
    env: dict[str, str] | None,
    ready: Callable[[Process], bool],
) -> Iterator[Process]:
    """Start ``command`` in its own session, its output in ``log``, wait
    until ``ready(process)`` holds (failing with its output after
    :data:`START_TIMEOUT`, or when it exits), and stop it whatever happens."""
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Process(name, popen, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready(process):
            if popen.poll() is not None:
                pytest.fail(
                    process.failure(f"{name} exited with {popen.returncode}"),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    process.failure(f"{name} not ready within {START_TIMEOUT} s"),
                    pytrace=False,
                )
            time.sleep(0.1)
        yield process
    finally:
        stop(process)
