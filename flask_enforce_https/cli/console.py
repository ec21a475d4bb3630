"""``flask https console``: what setting up the web console needs.

These commands do not load the application.
"""

from __future__ import annotations

import sys

import click

from ..passwords import hash_password
from .common import command


class ConsoleCommandError(click.ClickException):
    """A console command failed: one ``Error:`` line, exit status 1."""


@click.group("console")
def console_cli() -> None:
    """Set up the web console."""


@command("hash-password", with_appcontext=False)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input, instead"
    " of asking for it twice.",
)
def hash_password_command(password_stdin: bool) -> None:
    """Print a password's hash for the console's basic_auth.

    For basic_auth(editors={name: hash}, readers={name: hash}). The
    password is asked for twice without being shown (or read from standard
    input); only the hash is printed, on standard output.
    """
    if password_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
    else:
        # The prompts go to standard error: standard output is the hash.
        password = click.prompt(
            "Password", hide_input=True, err=True, default="", show_default=False
        )
        again = click.prompt(
            "Password (again)",
            hide_input=True,
            err=True,
            default="",
            show_default=False,
        )
        if password != again:
            raise ConsoleCommandError("the two passwords differ; nothing was hashed")
    if not password:
        raise ConsoleCommandError("the password is empty; nothing was hashed")
    click.echo(hash_password(password))


console_cli.add_command(hash_password_command)
