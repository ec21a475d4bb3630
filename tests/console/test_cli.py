"""flask https console hash-password: a hash for basic_auth, without the
password on the command line or in the output."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from werkzeug.security import check_password_hash

from flask_enforce_https.cli import https_cli

PASSWORD = "correct horse battery staple"


def hash_password(stdin: str, *options: str) -> tuple[int, str, str]:
    """Run the command; return its status, standard output and error.

    Blank lines are dropped from standard output: click 8.2.0's test runner
    writes the hidden prompts' space and newline there, where a terminal
    gets them from getpass on the terminal itself.
    """
    result = CliRunner().invoke(
        https_cli, ["console", "hash-password", *options], input=stdin
    )
    stdout = "".join(line for line in result.stdout.splitlines(True) if line.strip())
    return result.exit_code, stdout, result.stderr


def test_the_console_group_has_its_command() -> None:
    console = https_cli.commands["console"]
    assert sorted(console.commands) == ["hash-password"]  # type: ignore[attr-defined]


def test_asked_twice_it_prints_only_the_hash() -> None:
    code, stdout, stderr = hash_password(f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, stderr
    (stored,) = stdout.splitlines()
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, PASSWORD)
    # The prompts go to standard error, and the password is shown nowhere.
    assert "Password" in stderr
    assert PASSWORD not in stdout + stderr


@pytest.mark.parametrize(
    ("stdin", "options", "error"),
    [
        pytest.param(
            f"{PASSWORD}\n{PASSWORD}!\n",
            (),
            "Error: the two passwords differ; nothing was hashed",
            id="mismatch",
        ),
        pytest.param(
            "\n\n", (), "Error: the password is empty; nothing was hashed", id="empty"
        ),
        pytest.param(
            "\n",
            ("--password-stdin",),
            "Error: the password is empty; nothing was hashed",
            id="empty-stdin",
        ),
        pytest.param(
            "",
            ("--password-stdin",),
            "Error: the password is empty; nothing was hashed",
            id="no-stdin",
        ),
    ],
)
def test_one_error_line_and_no_hash(
    stdin: str, options: tuple[str, ...], error: str
) -> None:
    code, stdout, stderr = hash_password(stdin, *options)
    assert code == 1
    assert stdout == ""
    # After the prompts (on one line under click 8.2.0's test runner).
    assert stderr.endswith(f"{error}\n")
    assert stderr.count("Error:") == 1
    assert "Traceback" not in stderr
    assert PASSWORD not in stderr


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(f"{PASSWORD}\n", id="newline"),
        pytest.param(f"{PASSWORD}\r\n", id="crlf"),
        pytest.param(PASSWORD, id="no-newline"),
        pytest.param(f"{PASSWORD}\nignored second line\n", id="first-line-only"),
    ],
)
def test_password_stdin(stdin: str) -> None:
    code, stdout, stderr = hash_password(stdin, "--password-stdin")
    assert (code, stderr) == (0, "")
    (stored,) = stdout.splitlines()
    assert check_password_hash(stored, PASSWORD)


def test_spaces_are_part_of_the_password() -> None:
    code, stdout, _ = hash_password(f" {PASSWORD} \n", "--password-stdin")
    assert code == 0
    assert check_password_hash(stdout.strip(), f" {PASSWORD} ")


def test_it_runs_without_loading_the_app() -> None:
    def broken() -> Flask:
        raise RuntimeError("the app does not load")

    result = CliRunner().invoke(
        https_cli,
        ["console", "hash-password", "--password-stdin"],
        input=PASSWORD,
        obj=ScriptInfo(create_app=broken),
    )
    assert result.exit_code == 0, result.output
    assert check_password_hash(result.stdout.strip(), PASSWORD)
