"""Starting the demo, as a new user would: ``python -m example_app``.

A port in use stops it at once with the demo's own one line, naming the
variable to change, before it makes anything. Once it runs, every curl
command of its banner's "Try it" part, run as printed (by bash, from the
checkout), gets the status its comment says: the SOAP example too, since
the orders service starts with the order it asks about. So do the
commands of the README's quickstart.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import accepts, free_ports
from processes import START_TIMEOUT, running
from test_stack import unavailable

ROOT = Path(__file__).resolve().parent.parent


def demo_env(instance: Path, http_port: int, https_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "FLASK_APP")}
    env.update(
        HOST="127.0.0.1",
        HTTP_PORT=str(http_port),
        HTTPS_PORT=str(https_port),
        DEMO_INSTANCE=str(instance),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


@pytest.mark.parametrize("variable", ["HTTP_PORT", "HTTPS_PORT"])
def test_a_port_in_use_stops_the_demo_with_its_own_message(
    tmp_path: Path, busy_port: int, variable: str
) -> None:
    (free,) = free_ports(1)
    ports = {"HTTP_PORT": free, "HTTPS_PORT": free}
    ports[variable] = busy_port
    instance = tmp_path / "instance"
    result = subprocess.run(
        [sys.executable, "-m", "example_app"],
        cwd=ROOT,
        env=demo_env(instance, ports["HTTP_PORT"], ports["HTTPS_PORT"]),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{busy_port}: the port is in use, by"
        f" another program or another demo; stop it, or set {variable} to"
        f" another port, e.g. make demo {variable}={busy_port + 1000}\n"
    )
    # Stopped before making certificates, and the other port is free again.
    assert not instance.exists()
    assert not accepts(free)


def test_a_host_not_of_this_machine_is_one_line(tmp_path: Path) -> None:
    http_port, https_port = free_ports(2)
    env = demo_env(tmp_path / "instance", http_port, https_port)
    env["HOST"] = "192.0.2.1"  # TEST-NET-1: no machine's address; nothing is sent
    result = subprocess.run(
        [sys.executable, "-m", "example_app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot listen on 192.0.2.1:{http_port} (")
    assert result.stderr.endswith(
        "); set HOST to an address of this machine, e.g. 127.0.0.1\n"
    )
    assert result.stderr.count("\n") == 1


#: The status of each command of the banner, in order: what its comments say.
EXPECTED = [
    ("/account/", 301),
    ("/account/", 200),
    ("/account/login", 308),
    ("/orders/api/orders", 403),
    ("/orders/api/orders", 201),
    ("/orders/api/orders/1", 200),
    ("/orders/soap?wsdl", 200),
    ("/orders/soap", 200),
    ("/orders/partner/orders", 403),
    ("/orders/partner/orders", 200),
    ("/healthz", 200),
]


@contextlib.contextmanager
def started_demo(folder: Path) -> Iterator[tuple[dict[str, str], str]]:
    """Run the demo on free ports until its banner is out; yield its
    environment and the banner; stop it whatever happens."""
    http_port, https_port = free_ports(2)
    env = demo_env(folder / "instance", http_port, https_port)
    with running(
        "demo",
        [sys.executable, "-m", "example_app"],
        log=folder / "demo.log",
        cwd=ROOT,
        env=env,
        ready=lambda process: "Ctrl-C stops the demo." in process.output(),
    ) as process:
        yield env, process.output()


def require_curl() -> None:
    if shutil.which("curl") is None:
        unavailable("curl is not installed (apt-get install curl)")


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with bash from the checkout, as a user would."""
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_command_of_the_banner_works_as_printed(tmp_path: Path) -> None:
    require_curl()
    with started_demo(tmp_path) as (env, banner):
        part = banner.split("Try it, from another terminal")[1]
        part = part.split("Then be the administrator")[0]
        commands = [
            line.strip()
            for line in re.sub(r"\\\n\s*", "", part).splitlines()
            if line.strip().startswith("curl ")
        ]
        assert len(commands) == len(EXPECTED), commands
        for command, (path, status) in zip(commands, EXPECTED, strict=True):
            assert path in command, command
            # As printed, but status line only: -i adds the head to the body.
            result = bash(f"{command} -sS -o /dev/null -w '%{{http_code}}'", env)
            assert (result.returncode, result.stderr) == (0, ""), command
            assert int(result.stdout) == status, command


def test_the_readme_quickstart_works_as_written(tmp_path: Path) -> None:
    require_curl()
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart")[1].split("## Use it in your app")[0]
    (block,) = [
        code
        for code in re.findall(r"^```sh\n(.*?)^```", quickstart, re.M | re.S)
        if "curl" in code
    ]
    with started_demo(tmp_path) as (env, _):
        script = (
            block.replace("8080", env["HTTP_PORT"])
            .replace("8443", env["HTTPS_PORT"])
            .replace(".venv/bin/flask", str(Path(sys.executable).parent / "flask"))
        )
        result = bash(script, env)
    statuses = re.findall(r"HTTP/1.1 (\d+)", result.stdout)
    assert statuses == ["200", "301", "403"], result.stdout + result.stderr
    location = f"Location: https://127.0.0.1:{env['HTTPS_PORT']}/"
    assert location in result.stdout
    assert "storefront.force_https_screens: null -> true" in result.stdout
    # The check's report: its certificate findings are others' to test.
    assert re.search(r"^\d+ errors?, \d+ warnings?, \d+ info$", result.stdout, re.M)
