"""``flask https set`` and ``unset``: the TOML kept as written, the file kept
as it is (owner, group, mode, ACL, symbolic links), emptied tables removed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import tomllib
import typing as t
from pathlib import Path

import pytest
from click.testing import Result
from conftest import create_app
from test_stack import unavailable

from flask_enforce_https.files import ACL_XATTR

#: A user and group that own nothing here.
OTHER_UID, OTHER_GID = 4321, 8765


def cli(path: Path, *args: str) -> Result:
    """Run ``flask https ARGS`` for an app whose settings are ``path``."""
    app = create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    result = app.test_cli_runner().invoke(args=["https", *args])
    assert "Traceback" not in result.output, result.output
    return result


def settings_file(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def require_root() -> None:
    if os.geteuid() != 0:
        unavailable("changing a file's owner needs root")


# -- the TOML is kept as written ---------------------------------------------------

LAYOUT = """\
# Settings for the shop.
[environment]
hsts = false  # on after the rollout
exempt_paths = [
    "/healthz",  # the load balancer
    "/ready",
]
trusted_proxies = ["10.0.0.0/8"]

# The shop itself
[applications.shop]
secure_cookies = true
"""


@pytest.mark.parametrize(
    ("text", "args", "kept"),
    [
        pytest.param(
            LAYOUT,
            ["set", "hsts=true"],
            [
                "hsts = true  # on after the rollout",
                '    "/healthz",  # the load balancer',
                "# The shop itself\n[applications.shop]",
            ],
            id="comments-multiline-array",
        ),
        pytest.param(
            LAYOUT,
            ["set", "hsts_max_age=600"],
            ['trusted_proxies = ["10.0.0.0/8"]\nhsts_max_age = 600\n\n# The shop'],
            id="new-key-above-next-table-comment",
        ),
        pytest.param(
            LAYOUT,
            ["set", "exempt_paths=/a,/b"],
            ['exempt_paths = [\n    "/a",\n    "/b",\n]'],
            id="multiline-array-stays-multiline",
        ),
        pytest.param(
            "environment = {hsts = false}\napplications.shop.secure_cookies = true\n",
            ["set", "force_https_screens=true", "--application", "shop"],
            [
                "environment = {hsts = false}",
                "applications.shop.secure_cookies = true\n"
                "applications.shop.force_https_screens = true",
            ],
            id="inline-table-dotted-keys",
        ),
        pytest.param(
            "[environment]\r\nhsts = false # c\r\n\r\n"
            "[applications.shop]\r\nsecure_cookies = true\r\n",
            ["set", "hsts_max_age=600", "exempt_paths=/a"],
            ["[environment]\r\nhsts = false # c\r\n"],
            id="crlf",
        ),
    ],
)
def test_set_keeps_the_toml_as_written(
    tmp_path: Path, text: str, args: list[str], kept: list[str]
) -> None:
    path = settings_file(tmp_path, text)
    result = cli(path, *args)
    assert result.exit_code == 0, result.output
    written = path.read_bytes().decode()
    for fragment in kept:
        assert fragment in written
    if "\r\n" in text:
        assert written.count("\n") == written.count("\r\n"), "only CRLF line ends"


def test_set_is_linear_in_a_long_line_of_hashes(tmp_path: Path) -> None:
    # A 32 KB line with 3,000 '#' in its strings took 16 s to edit.
    paths = ", ".join(f'"/p{i}#x"' for i in range(3000))
    path = settings_file(tmp_path, f"[environment]\nexempt_paths = [{paths}]  # c\n")
    assert len(path.read_text()) > 32_000
    started = time.monotonic()
    result = cli(path, "set", "exempt_paths=/a")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 4
    assert tomllib.loads(path.read_text())["environment"]["exempt_paths"] == ["/a"]


# -- unset removes emptied application tables, never [environment] ------------------


@pytest.mark.parametrize("name", ["settings.toml", "settings.json"])
def test_unset_removes_an_application_table_it_empties(
    tmp_path: Path, name: str
) -> None:
    document = {
        "environment": {"hsts": False},
        "applications": {"shop": {"secure_cookies": True}},
    }
    if name.endswith(".json"):
        path = settings_file(tmp_path, json.dumps(document), name)
    else:
        path = settings_file(
            tmp_path,
            "[environment]\nhsts = false\n\n"
            "[applications.shop]\nsecure_cookies = true\n",
            name,
        )
    assert cli(path, "unset", "secure_cookies", "--application", "shop").exit_code == 0
    assert cli(path, "unset", "hsts").exit_code == 0
    text = path.read_text()
    assert "shop" not in text
    assert "applications" not in text
    loaded = json.loads(text) if name.endswith(".json") else tomllib.loads(text)
    assert loaded == {"environment": {}}, "[environment] stays, even empty"


def test_unset_keeps_an_application_table_with_other_keys(tmp_path: Path) -> None:
    path = settings_file(
        tmp_path,
        "[environment]\n[applications.shop]\nsecure_cookies = true\n"
        "force_https_screens = true\n",
    )
    assert cli(path, "unset", "secure_cookies", "--application", "shop").exit_code == 0
    assert tomllib.loads(path.read_text())["applications"] == {
        "shop": {"force_https_screens": True}
    }


# -- a file that cannot be parsed is one clear line ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "[environment]\nhsts_max_age = " + "9" * 5000 + "\n", id="long-int"
        ),
        pytest.param(
            "[environment]\nexempt_paths = " + "[" * 5000 + "]" * 5000 + "\n",
            id="deep",
        ),
    ],
)
def test_set_on_a_file_that_crashes_the_parser_is_one_clear_line(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\n")
    app = create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0)
    path.write_text(text)
    result = app.test_cli_runner().invoke(args=["https", "set", "hsts=true"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(path) in lines[0]
    assert path.read_text() == text


# -- owner, group, mode, ACL and symbolic links are kept ----------------------------


def test_set_keeps_owner_group_and_mode(tmp_path: Path) -> None:
    require_root()
    path = settings_file(tmp_path, "[environment]\n")
    os.chown(path, OTHER_UID, OTHER_GID)
    path.chmod(0o640)
    result = cli(path, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    after = path.stat()
    assert (after.st_uid, after.st_gid) == (OTHER_UID, OTHER_GID)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert tomllib.loads(path.read_text())["environment"]["hsts"] is True


def test_set_keeps_the_acl(tmp_path: Path) -> None:
    if shutil.which("setfacl") is None:
        unavailable("setfacl is not installed (Debian's acl package)")
    path = settings_file(tmp_path, "[environment]\n")
    done = subprocess.run(
        ["setfacl", "-m", f"u:{OTHER_UID}:r,g:{OTHER_GID}:r", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        unavailable(f"this file system has no POSIX ACLs ({done.stderr.strip()})")
    before = os.getxattr(path, ACL_XATTR)
    result = cli(path, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    assert os.getxattr(path, ACL_XATTR) == before
    listed = subprocess.run(
        ["getfacl", "-c", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert f"user:{OTHER_UID}:r--" in listed


def test_set_does_not_take_the_folders_default_acl(tmp_path: Path) -> None:
    # The folder's default ACL would let another user write the settings;
    # the old file had no ACL, so the new one has none either.
    if shutil.which("setfacl") is None:
        unavailable("setfacl is not installed (Debian's acl package)")
    folder = tmp_path / "settings"
    folder.mkdir()
    path = settings_file(folder, "[environment]\n")
    path.chmod(0o664)
    done = subprocess.run(
        ["setfacl", "-d", "-m", f"u:{OTHER_UID}:rwx", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        unavailable(f"this file system has no POSIX ACLs ({done.stderr.strip()})")
    result = cli(path, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    with pytest.raises(OSError, match="No data available"):
        os.getxattr(path, ACL_XATTR)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_set_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    target = settings_file(real, "[environment]\n")
    target.chmod(0o640)
    link = tmp_path / "settings.toml"
    link.symlink_to(target)
    result = cli(link, "set", "hsts=true")
    assert result.exit_code == 0, result.output
    assert link.is_symlink(), "the link is kept"
    assert os.readlink(link) == str(target)
    assert tomllib.loads(target.read_text())["environment"]["hsts"] is True
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in real.iterdir()) == ["settings.toml"]


def test_set_refuses_when_the_owner_cannot_be_kept() -> None:
    # A user other than root and the owner, allowed to write the folder,
    # cannot give the new file the old one's owner: nothing changes.
    require_root()
    # Not tmp_path: pytest's folders are closed to other users.
    with tempfile.TemporaryDirectory() as folder:
        refuse_when_the_owner_cannot_be_kept(Path(folder))


def refuse_when_the_owner_cannot_be_kept(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    path = settings_file(tmp_path, "[environment]\n")
    path.chmod(0o666)
    log = tmp_path / "audit.jsonl"
    app = create_app(
        str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0, ENFORCE_HTTPS_AUDIT_LOG=str(log)
    )
    runner = app.test_cli_runner()
    before = (path.read_bytes(), path.stat().st_ino)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(OTHER_GID)
            os.setuid(OTHER_UID)
            result = runner.invoke(args=["https", "set", "hsts=true"])
            os.write(write, json.dumps([result.exit_code, result.output]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        exit_code, output = t.cast("list[t.Any]", json.loads(f.read()))
    os.waitpid(child, 0)
    assert exit_code == 1, output
    assert "owner" in output
    assert "run this as root" in output
    assert "Traceback" not in output
    assert (path.read_bytes(), path.stat().st_ino) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert not log.exists() or log.read_text() == ""
