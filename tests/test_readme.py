"""The README's "Use it in your app" path works pasted as written.

Its Python blocks are written to the files their first line names and
imported; its "Try HTTPS locally" commands are run by bash, for real
(openssl, two ``flask run`` servers, curl), on free ports.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import free_ports
from flask import Flask
from test_stack import unavailable

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.M | re.S)


def section(title: str) -> str:
    """The text of the README's section ``title``, up to the next section of
    its level or above."""
    lines = README.read_text().splitlines(keepends=True)
    start = lines.index(f"{title}\n")
    level = len(title.split(" ")[0])
    end = re.compile(rf"#{{1,{level}}} ")
    taken: list[str] = []
    fenced = False
    for line in lines[start + 1 :]:
        fenced ^= line.startswith("```")
        if not fenced and end.match(line):  # not a comment in a code block
            break
        taken.append(line)
    return "".join(taken)


def blocks(title: str, language: str) -> list[str]:
    """The fenced blocks of one language in a section."""
    return [code for lang, code in FENCE.findall(section(title)) if lang == language]


def python_file(name: str) -> str:
    """The Python block of the README whose first line is ``# name``."""
    found = [
        code
        for code in blocks("## Use it in your app", "python")
        if code.startswith(f"# {name}\n")
    ]
    assert len(found) == 1, f"one block for {name}"
    return found[0]


def load(tmp_path: Path, name: str, source: str) -> ModuleType:
    """Import ``source`` as a module of its own, written to ``name``."""
    path = tmp_path / name
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"readme_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_python_block_of_the_readme_compiles() -> None:
    codes = [
        code for lang, code in FENCE.findall(README.read_text()) if lang == "python"
    ]
    assert len(codes) >= 2
    for code in codes:
        compile(code, "README.md", "exec")


def test_the_app_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_ENFORCE_HTTPS_PORT", "8443")
    module = load(tmp_path, "yourapp.py", python_file("yourapp.py"))
    app: Flask = module.create_app({"TESTING": True})
    client = app.test_client()
    # The home page is served over HTTP; the registered web flow is not.
    assert client.get("/").text == "public"
    account = client.get("/account/")
    assert account.status_code == 301
    assert account.location == "https://localhost:8443/account/"
    assert client.get("/account/", base_url="https://localhost").text == "your account"
    # The class-based view: refused over HTTP, whatever the method.
    for method in ("GET", "POST"):
        refused = client.open("/api/orders", method=method)
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
    created = client.post("/api/orders", base_url="https://localhost")
    assert (created.status_code, created.json) == (201, {"id": 1})
    shown = app.test_cli_runner().invoke(args=["https", "show"])
    assert shown.exit_code == 0, shown.output
    for endpoint in ("pages.home", "account.overview", "orders"):
        assert endpoint in shown.output


def test_force_https_everywhere(tmp_path: Path) -> None:
    source = python_file("everywhere.py")
    app: Flask = load(tmp_path, "everywhere.py", source).create_app()
    client = app.test_client()
    base = "http://shop.example.com"
    home = client.get("/", base_url=base)
    assert (home.status_code, home.location) == (301, "https://shop.example.com/")
    secure = client.get("/", base_url="https://shop.example.com")
    assert secure.text == "HTTPS only"
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    health = client.get("/healthz", base_url=base)
    assert (health.status_code, health.text) == (200, "ok")


@pytest.mark.parametrize(
    ("removed", "why"),
    [
        pytest.param(
            '    @https.screen("none")  # the load balancer checks over plain HTTP\n',
            "the default level is design: no exempt path opens it",
            id="without-the-declaration",
        ),
        pytest.param(
            ', "exempt_paths": ["/healthz"]',
            "hsts forces every screen",
            id="without-the-exempt-path",
        ),
    ],
)
def test_the_health_check_needs_both_lines(
    tmp_path: Path, removed: str, why: str
) -> None:
    source = python_file("everywhere.py")
    assert removed in source
    app: Flask = load(
        tmp_path, "everywhere.py", source.replace(removed, "")
    ).create_app()
    health = app.test_client().get("/healthz", base_url="http://shop.example.com")
    assert health.status_code == 301, why


def test_trying_https_locally_works_as_written(tmp_path: Path) -> None:
    for tool in ("openssl", "curl"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed: the README's local HTTPS is not run")
    (commands,) = blocks("### Try HTTPS locally", "sh")
    https_port, http_port = free_ports(2)
    script = commands.replace("8443", str(https_port)).replace("8080", str(http_port))
    (tmp_path / "yourapp.py").write_text(python_file("yourapp.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    # The venv's flask, as after `pip install`.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    process = subprocess.Popen(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    finally:
        # The servers too, should the script not reach its `kill`.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    assert process.returncode == 0, err
    redirect, served = out.split("HTTP/1.1 ")[1:]
    assert redirect.startswith("301 ")
    assert f"Location: https://127.0.0.1:{https_port}/account/" in redirect
    assert served.startswith("200 ")
    assert served.endswith("your account")
