"""What the ``flask https`` commands share, and how they load the app."""

from __future__ import annotations

import datetime
import typing as t
from functools import update_wrapper

import click
from flask import Flask, current_app
from flask.cli import AppGroup, NoAppException, ScriptInfo
from flask.helpers import get_debug_flag

from ..errors import EnforceHTTPSError, SettingsError
from ..loading import Purpose, loading_for, names_store
from ..sources import FORMATS
from ..state import AppState

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
#: Called with the error when the app fails to load because its settings are
#: invalid, and with the command's parameters; it may print what the command
#: can say without the app, and returns a hint for after the error, if any.
OnInvalidSettings = t.Callable[[SettingsError, dict[str, t.Any]], "str | None"]


class LoadError(click.ClickException):
    """The application could not be loaded: one line, and maybe a hint.

    :param message: What went wrong.
    :param hint: What to do about it, printed on the next line.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: t.IO[t.Any] | None = None) -> None:
        """Print the error and the hint on standard error."""
        click.echo(f"Error: {self.format_message()}", file=file, err=True)
        if self.hint:
            click.echo(self.hint, file=file, err=True)


class NoApp(LoadError):
    """Flask found no application where ``--app`` or ``FLASK_APP`` says: a
    usage error."""

    exit_code = 2


class InputError(click.UsageError):
    """A bad argument, such as a URL that cannot be requested: one line,
    exit status 2."""

    def show(self, file: t.IO[t.Any] | None = None) -> None:
        """Print the error on standard error, without the usage."""
        click.echo(f"Error: {self.format_message()}", file=file, err=True)


def _no_app_message(error: NoAppException) -> str:
    # Flask puts the traceback of an ImportError raised inside the module in
    # the message; its last line says what went wrong.
    head, _, trace = error.format_message().partition("\n\n")
    last = trace.strip().splitlines()[-1:] if trace.strip() else []
    return " ".join([head.strip(), *last])


def load_app(
    ctx: click.Context,
    on_invalid_settings: OnInvalidSettings | None = None,
    params: dict[str, t.Any] | None = None,
    purpose: Purpose = Purpose.COMMAND,
) -> Flask:
    """Load the application as Flask's commands do, turning any failure into
    a :class:`LoadError` rather than a traceback.

    With ``flask --debug`` an error raised by the application's own code
    keeps its traceback.

    :param ctx: The command's context, whose :class:`~flask.cli.ScriptInfo`
        knows how to load the app.
    :param on_invalid_settings: What the command says when the settings
        are invalid.
    :param params: The command's parameters, for ``on_invalid_settings``.
    :param purpose: What the app is loaded for (see :mod:`..loading`).
    """
    try:
        with loading_for(purpose):
            return ctx.ensure_object(ScriptInfo).load_app()
    except NoAppException as e:
        raise NoApp(_no_app_message(e)) from None
    except SettingsError as e:
        hint = None
        if on_invalid_settings is not None:
            hint = on_invalid_settings(e, params or {})
        raise LoadError(str(e), hint) from None
    except EnforceHTTPSError as e:
        raise LoadError(str(e)) from None
    except Exception as e:
        if get_debug_flag():
            raise
        raise LoadError(
            f"could not load the application: {type(e).__name__}: {e}",
            "Run 'flask --debug ...' to see the traceback.",
        ) from None


def is_file(error: SettingsError) -> bool:
    """Whether the invalid settings are a file, rather than a mapping in the
    config: running applications then keep their last good settings.

    :param error: The error that stopped the app from loading.
    """
    return error.source.endswith(FORMATS)


def is_store(error: SettingsError) -> bool:
    """Whether the invalid settings are a store's revision: running
    applications keep their last good settings, and a new revision (or a
    revert) mends it.

    :param error: The error that stopped the app from loading.
    """
    return names_store(error.source)


def with_app(f: F, on_invalid_settings: OnInvalidSettings | None = None) -> F:
    """Run the command ``f`` in the application's context, loading the app
    with :func:`load_app` when no app context is active yet.

    :param f: The command's callback.
    :param on_invalid_settings: See :func:`load_app`.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if not current_app:
            app = load_app(ctx, on_invalid_settings, kwargs)
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, update_wrapper(decorator, f))


class HTTPSGroup(AppGroup):
    """The ``flask https`` group: like :class:`~flask.cli.AppGroup`, but its
    commands load the app with :func:`load_app`, so that a broken app or
    invalid settings give one line instead of a traceback.

    The group is a ``flask.commands`` entry point, so that ``flask https``
    exists even when the app fails to load; ``init_app`` also adds it to
    ``app.cli``, for apps run without the package's metadata and for
    ``app.test_cli_runner()``.
    """

    def command(  # type: ignore[override]
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]:
        """Like :meth:`click.Group.command`, but the command is made by
        :func:`command`, so that it loads the app with :func:`load_app`.

        The package's own commands are made with :func:`command` and added
        in :mod:`flask_enforce_https.cli`; this is for commands added
        elsewhere.
        """

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            made = command(*args, **kwargs)(f)
            self.add_command(made)
            return made

        return decorator


def command(
    name: str | None = None,
    *,
    on_invalid_settings: OnInvalidSettings | None = None,
    with_appcontext: bool = True,
    **kwargs: t.Any,
) -> t.Callable[[t.Callable[..., t.Any]], click.Command]:
    """Make a ``flask https`` command, without adding it to a group: like
    :func:`click.command`, wrapping the callback in :func:`with_app`.

    :param name: The command's name; the function's by default.
    :param on_invalid_settings: What the command says when the app's
        settings are invalid (see :func:`load_app`).
    :param with_appcontext: ``False`` to run the callback without the app.
    :param kwargs: Passed to :func:`click.command`.
    """

    make = t.cast(
        t.Callable[[t.Callable[..., t.Any]], click.Command],
        click.command(name, **kwargs),
    )

    def decorator(f: t.Callable[..., t.Any]) -> click.Command:
        return make(with_app(f, on_invalid_settings) if with_appcontext else f)

    return decorator


https_cli = HTTPSGroup(
    "https", help="Show, explain, change and check how HTTPS is enforced on this app."
)
#: The width ``show`` fits when its output is not a terminal.
WIDTH = 100
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)


def app_state() -> AppState:
    state = current_app.extensions.get("enforce_https")
    if not isinstance(state, AppState):
        raise click.UsageError(
            f"app {current_app.name!r} does not use EnforceHTTPS: call"
            " EnforceHTTPS(app) or ext.init_app(app) in the app factory."
        )
    return state


def the_app() -> Flask:
    """Return the application the command runs for (not a proxy of it)."""
    app = app_state().app()
    if app is None:  # pragma: no cover - the app context holds it
        raise click.ClickException("the application is gone")
    return app


def when(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def printable(value: object) -> str:
    """Return ``value`` as text safe to print on one terminal line."""
    # Names come from the log: a newline or an escape sequence in one must
    # not forge a line or move the cursor.
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
