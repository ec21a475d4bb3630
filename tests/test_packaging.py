"""What the package says about itself is true: one version, floors that
``make test-min`` tests, the Python versions that are checked, a license,
and a demo that installs only what it imports."""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import flask_enforce_https

ROOT = Path(__file__).resolve().parent.parent
MIN_CONSTRAINTS = ROOT / "constraints" / "min.txt"


def setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return parser


def install_requires() -> list[Requirement]:
    lines = setup_cfg()["options"]["install_requires"].splitlines()
    return [Requirement(line) for line in lines if line.strip()]


#: The extras whose dependencies are the package's own (tool extras such as
#: ``test`` or ``lint`` have no floors).
RUNTIME_EXTRAS = ("store",)


def extras_requires() -> list[Requirement]:
    extras = setup_cfg()["options.extras_require"]
    return [
        Requirement(line)
        for extra in RUNTIME_EXTRAS
        for line in extras[extra].splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def pins() -> dict[str, Version]:
    """The versions constraints/min.txt pins, by lowercase name."""
    pinned = {}
    for line in MIN_CONSTRAINTS.read_text().splitlines():
        line = line.partition("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pinned[name.strip().lower()] = Version(version)
    return pinned


def test_one_version_for_the_package_and_its_metadata() -> None:
    assert setup_cfg()["metadata"]["version"] == (
        "attr: flask_enforce_https.__version__"
    )
    assert importlib.metadata.version("flask-enforce-https") == (
        flask_enforce_https.__version__
    )
    assert Version(flask_enforce_https.__version__)


def test_every_dependency_has_a_floor_and_the_floors_are_pinned() -> None:
    floors = {}
    for requirement in [*install_requires(), *extras_requires()]:
        (specifier,) = requirement.specifier
        assert specifier.operator == ">=", requirement
        floors[requirement.name.lower()] = Version(specifier.version)
    assert floors == pins()


def test_the_test_extra_installs_the_store_so_its_tests_run() -> None:
    # make test and make test-min install [dev] and [test]: without the
    # store extra there, the store's tests would only ever skip.
    assert (
        "flask-enforce-https[store]"
        in setup_cfg()["options.extras_require"]["test"].split()
    )


@pytest.mark.skipif(
    not os.environ.get("FLOORS"), reason="make test-min sets FLOORS: checked there"
)
def test_make_test_min_runs_with_every_floor_installed() -> None:
    installed = {name: Version(importlib.metadata.version(name)) for name in pins()}
    assert installed == pins()


def test_the_python_versions_claimed_are_those_checked() -> None:
    cfg = setup_cfg()
    classifiers = cfg["metadata"]["classifiers"]
    claimed = re.findall(
        r"Programming Language :: Python :: (3\.\d+)$", classifiers, re.M
    )
    assert claimed == ["3.11"]
    assert cfg["options"]["python_requires"] == f">={claimed[0]}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["mypy"]["python_version"] == claimed[0]
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + claimed[0].replace(
        ".", ""
    )


def test_the_license_file_is_the_license_setup_cfg_names() -> None:
    metadata = setup_cfg()["metadata"]
    assert metadata["license"] == "BSD-3-Clause"
    assert metadata["license_files"] == "LICENSE"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License\n")
    assert "flask-enforce-https contributors" in text


def make_dry_run(*args: str) -> list[str]:
    """The commands ``make`` would run, for a virtualenv that does not exist."""
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", *args, "VENV=/nonexistent/venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.splitlines()


def test_make_demo_installs_the_package_alone() -> None:
    installs = [line for line in make_dry_run("demo") if " pip install " in line]
    assert installs == ["/nonexistent/venv/bin/python -m pip install -e ."]


def test_make_test_min_installs_the_floors_in_a_venv_of_its_own() -> None:
    lines = make_dry_run("test-min")
    assert "/nonexistent/venv" not in "\n".join(lines)
    assert (
        ".venv-min/bin/python -m pip install -c constraints/min.txt -e '.[test]'"
        in (lines)
    )
    assert "FLOORS=constraints/min.txt .venv-min/bin/python -m pytest" in lines
