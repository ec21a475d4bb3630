"""What the demo's two applications share: the instance folder, the
environment variables, and the ``ENFORCE_HTTPS_*`` config.

Both applications read one instance folder, ``example_app/instance/``
(git-ignored) or the folder in ``DEMO_INSTANCE``. On first use it gets a
copy of the committed template ``example_app/settings.toml``, which is the
settings file both applications read and ``flask https set`` edits, so the
checkout never changes; the certificates of :mod:`example_app.pki`; and two
secrets, made once and readable by their owner only (mode 0600): the
storefront's ``SECRET_KEY`` (``secret-key``), which signs its sessions and
the console's forms, and the web console's ``admin`` password
(``console-password``), which the demo prints when it starts.

The demo server and the ``flask https`` commands build the applications
the same way, from the same environment variables:

========================  ===========  ====================================
``HOST``                  127.0.0.1    the address both servers listen on
``HTTP_PORT`` (``PORT``)  8080         the plain-HTTP port
``HTTPS_PORT``            8443         the HTTPS port, where redirects go
``DEMO_INSTANCE``         (see above)  the instance folder
``DEMO_RELOAD_INTERVAL``  2            seconds between settings file checks
========================  ===========  ====================================
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from example_app import pki

PACKAGE = Path(__file__).resolve().parent
#: The committed settings template.
TEMPLATE = PACKAGE / "settings.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 8080
DEFAULT_HTTPS_PORT = 8443
DEFAULT_RELOAD_INTERVAL = 2.0
#: The web console's user, whose password is in the instance folder.
CONSOLE_USER = "admin"


class DemoConfigError(Exception):
    """An environment variable has a value the demo cannot use."""


def _port(names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = os.environ.get(name, "").strip()
        if not value:
            continue
        if not (value.isascii() and value.isdigit() and 0 < int(value) < 65536):
            raise DemoConfigError(
                f"{name} must be a port number from 1 to 65535, got {value!r}"
            )
        return int(value)
    return default


def host() -> str:
    """The address both servers listen on: ``HOST``, else 127.0.0.1."""
    return os.environ.get("HOST", "").strip() or DEFAULT_HOST


def http_port() -> int:
    """The plain-HTTP port: ``HTTP_PORT`` (or ``PORT``), else 8080.

    :raises DemoConfigError: The value is not a port.
    """
    return _port(("HTTP_PORT", "PORT"), DEFAULT_HTTP_PORT)


def https_port() -> int:
    """The HTTPS port: ``HTTPS_PORT``, else 8443.

    :raises DemoConfigError: The value is not a port.
    """
    return _port(("HTTPS_PORT",), DEFAULT_HTTPS_PORT)


def reload_interval() -> float:
    """Seconds between settings file checks: ``DEMO_RELOAD_INTERVAL``, else 2.

    :raises DemoConfigError: The value is not a number of seconds >= 0.
    """
    value = os.environ.get("DEMO_RELOAD_INTERVAL", "").strip()
    if not value:
        return DEFAULT_RELOAD_INTERVAL
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise DemoConfigError(
            f"DEMO_RELOAD_INTERVAL must be a number of seconds >= 0, got {value!r}"
        )
    return seconds


def instance_folder() -> Path:
    """The instance folder: ``DEMO_INSTANCE``, else ``example_app/instance``."""
    configured = os.environ.get("DEMO_INSTANCE", "").strip()
    return Path(configured).resolve() if configured else PACKAGE / "instance"


@dataclass(frozen=True)
class Instance:
    """A prepared instance folder.

    :param folder: The folder.
    :param settings: The settings file both applications read.
    :param files: The certificates and keys.
    :param secret_key: The storefront's ``SECRET_KEY``.
    :param console_password: The console's :data:`CONSOLE_USER` password.
    :param created: What was made in it now, for the demo to say so.
    """

    folder: Path
    settings: Path
    files: pki.Files
    secret_key: str
    console_password: str
    created: tuple[str, ...]


def _copy_template(target: Path) -> bool:
    """Copy the template to ``target`` unless it exists; say whether it did."""
    if target.exists():
        return False
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(TEMPLATE.read_bytes())
        # A hard link never replaces a file another process made meanwhile.
        os.link(temporary, target)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return True


def _secret(path: Path) -> tuple[str, bool]:
    """The secret kept in ``path``, made now (mode 0600) if there is none;
    and whether it was made now."""
    try:
        return _read_secret(path), False
    except FileNotFoundError:
        pass
    # Written whole under another name, then linked: another process never
    # reads a half-written secret, and never replaces one already there.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:  # mkstemp makes it 0600
            f.write(secrets.token_urlsafe(32) + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read_secret(path), False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return _read_secret(path), True


def _read_secret(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise DemoConfigError(f"{path} is empty: delete it to get a new one")
    return value


def prepare(folder: Path | None = None) -> Instance:
    """Make the instance folder ready: the settings file and certificates.

    Safe to call from several processes at once; what exists is kept.

    :param folder: The folder; :func:`instance_folder` when ``None``.
    """
    folder = folder or instance_folder()
    folder.mkdir(parents=True, exist_ok=True)
    settings = folder / "settings.toml"
    created = []
    if _copy_template(settings):
        template = TEMPLATE.relative_to(PACKAGE.parent)
        created.append(f"{settings.name}, copied from {template}")
    files, made = pki.ensure(folder)
    if made:
        created.append(
            "certificates: a local CA and the server's; a client CA and the partner's"
        )
    secret_key, made_key = _secret(folder / "secret-key")
    password, made_password = _secret(folder / "console-password")
    made_secrets = [
        name
        for name, made in (
            ("the storefront's SECRET_KEY", made_key),
            (f"the console's {CONSOLE_USER} password", made_password),
        )
        if made
    ]
    if made_secrets:
        created.append(" and ".join(made_secrets))
    return Instance(folder, settings, files, secret_key, password, tuple(created))


def configure(app: Flask, application: str, instance: Instance) -> None:
    """Set the ``ENFORCE_HTTPS_*`` keys of one of the demo's applications.

    :param app: The application, before ``EnforceHTTPS.init_app``.
    :param application: Its name in the settings file,
        ``[applications.<name>]``.
    :param instance: The prepared instance folder.
    :raises DemoConfigError: An environment variable has a bad value.
    """
    files = instance.files
    app.config.update(
        ENFORCE_HTTPS_APPLICATION=application,
        ENFORCE_HTTPS_SETTINGS=str(instance.settings),
        ENFORCE_HTTPS_RELOAD_INTERVAL=reload_interval(),
        # Redirects go to the demo's HTTPS port, not 443.
        ENFORCE_HTTPS_PORT=https_port(),
        # For `flask https check` and the startup check of the certificate.
        ENFORCE_HTTPS_CERTIFICATE=str(files.server_cert),
        ENFORCE_HTTPS_CERTIFICATE_KEY=str(files.server_key),
        ENFORCE_HTTPS_CA_BUNDLE=str(files.ca),
        # Verifies the partner's client certificate.
        ENFORCE_HTTPS_CLIENT_CA=str(files.client_ca),
    )
