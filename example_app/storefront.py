"""The demo's ``storefront`` application, mounted at ``/``: screens.

- ``/`` is the public home page: a screen declared ``https.screen()``, level
  none, so it is served over HTTP and HTTPS alike, until an administrator
  sets ``force_https_screens`` (or ``hsts``).
- ``/account/`` and ``/account/login`` form a web flow: a blueprint
  declared ``https.screen("tls")``. Over plain HTTP, a GET is redirected to
  HTTPS with 301 and the login form's POST with 308, which keeps the method
  and body. Its forms carry a CSRF token (see :mod:`example_app.csrf`): a
  POST without this session's is refused with 400.
- The session cookie is ``Secure``, ``HttpOnly`` and ``SameSite=Lax``: set
  over HTTPS when the user signs in, it is never sent over plain HTTP, not
  even to the home page, which plain HTTP still serves.
- ``/static/style.css`` is Flask's static endpoint: undeclared, so a screen
  at the default level, none.
- ``/healthz`` is undeclared too; the settings file exempts it, so it
  answers over plain HTTP even when every screen is forced to HTTPS.
- ``/_https/`` is the web console (:mod:`flask_enforce_https.console`),
  over HTTPS only: the user ``admin``, with the password the instance folder
  keeps in ``console-password`` (the demo prints it), changes the settings
  file there as ``flask https set`` does.

``flask --app example_app.storefront https show`` lists every endpoint with
its level in force, and why.
"""

from __future__ import annotations

import os

from flask import (
    Blueprint,
    Flask,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from example_app import csrf
from example_app.config import CONSOLE_USER, Instance, configure, prepare
from flask_enforce_https import EnforceHTTPS
from flask_enforce_https.console import Console, basic_auth, hash_password

#: The application's name in the settings file: ``[applications.storefront]``.
APPLICATION = "storefront"
MAX_NAME_LENGTH = 100

https = EnforceHTTPS()

pages = Blueprint("pages", __name__)
# A web flow: every view inside needs TLS, unless it declares otherwise; and
# every form in it needs the session's CSRF token.
account = csrf.protect(
    https.screen("tls")(Blueprint("account", __name__, url_prefix="/account"))
)


@pages.get("/")
@https.screen()
def home() -> ResponseReturnValue:
    """The public home page."""
    return render_template("home.html")


@pages.get("/healthz")
def healthz() -> ResponseReturnValue:
    """A load balancer's health check; exempt in the settings file."""
    return Response("ok\n", mimetype="text/plain")


@account.get("/")
def overview() -> ResponseReturnValue:
    """The account page: who is signed in."""
    return render_template("account.html", user=session.get("user"))


@account.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login form, and its handler (any name and password will do)."""
    if request.method == "GET":
        return render_template("login.html", error=None, user="")
    user = request.form.get("user", "").strip()
    if not 0 < len(user) <= MAX_NAME_LENGTH or not request.form.get("password"):
        error = f"Enter a name (up to {MAX_NAME_LENGTH} characters) and a password."
        return render_template("login.html", error=error, user=user), 400
    # A new session: nothing from before the login, a new CSRF token.
    session.clear()
    session["user"] = user
    csrf.rotate()
    return redirect(url_for("account.overview"), 303)


@account.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    session.clear()
    return redirect(url_for("account.overview"), 303)


@account.errorhandler(csrf.CSRFError)
def refused(error: csrf.CSRFError) -> ResponseReturnValue:
    """Say why a form was refused, on the page it came from, with a new form
    (and a new token, if the session was lost)."""
    if request.endpoint == "account.login":
        user = request.form.get("user", "").strip()[:MAX_NAME_LENGTH]
        page = render_template("login.html", error=error.description, user=user)
    else:
        page = render_template(
            "account.html", error=error.description, user=session.get("user")
        )
    return page, 400


def create_app(instance: Instance | None = None) -> Flask:
    """Create the ``storefront`` application.

    :param instance: The instance folder; prepared from the environment
        (see :mod:`example_app.config`) when ``None``.
    """
    instance = instance or prepare()
    app = Flask(__name__, instance_path=str(instance.folder))
    app.config.update(
        # Made once and kept in the instance folder: sessions and the
        # console's forms outlive a restart.
        SECRET_KEY=os.environ.get("SECRET_KEY") or instance.secret_key,
        # Set over HTTPS by the login, the session cookie must never travel
        # over plain HTTP, where the home page is still served: Secure.
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    configure(app, APPLICATION, instance)
    csrf.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(account)
    https.init_app(app)
    # Hashed at each start rather than kept hashed: the password file is the
    # one thing to delete to get a new password.
    users = {CONSOLE_USER: hash_password(instance.console_password)}
    Console(app, authorize=basic_auth(users))
    return app


#: For ``flask --app example_app.storefront https ...`` and the demo server.
app = create_app()
