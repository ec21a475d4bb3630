"""Running ``flask https`` commands in the tests, never with a traceback."""

from __future__ import annotations

from click.testing import Result
from flask.testing import FlaskCliRunner


def run(runner: FlaskCliRunner, *args: str) -> Result:
    """Invoke ``flask https ARGS``; whatever happens, never a traceback."""
    result = runner.invoke(args=["https", *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def ok(runner: FlaskCliRunner, *args: str) -> Result:
    """Invoke ``flask https ARGS``, which must succeed."""
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    return result
