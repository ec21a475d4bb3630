"""Which commands ``flask https`` has is said in one place,
``flask_enforce_https/cli/__init__.py``: the modules make their commands
without adding them to the group."""

from __future__ import annotations

import click
from click.testing import CliRunner

from flask_enforce_https.cli import https_cli
from flask_enforce_https.cli.common import HTTPSGroup, command


def test_the_group_has_the_commands_added_to_it() -> None:
    assert sorted(https_cli.commands) == [
        "check",
        "console",
        "explain",
        "history",
        "revert",
        "set",
        "show",
        "store",
        "unset",
    ]


def test_command_makes_a_command_of_no_group() -> None:
    @command("probe", with_appcontext=False)
    def probe() -> None:
        click.echo("probed")

    assert isinstance(probe, click.Command)
    assert "probe" not in https_cli.commands
    group = HTTPSGroup("g")
    group.add_command(probe)
    result = CliRunner().invoke(group, ["probe"])
    assert (result.exit_code, result.output) == (0, "probed\n")


def test_the_group_decorator_still_adds_what_it_makes() -> None:
    group = HTTPSGroup("g")

    @group.command("probe", with_appcontext=False)
    def probe() -> None:
        click.echo("probed")

    assert group.commands == {"probe": probe}
    result = CliRunner().invoke(group, ["probe"])
    assert (result.exit_code, result.output) == (0, "probed\n")
