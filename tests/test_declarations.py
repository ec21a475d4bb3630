"""Design-time declarations: decorators, web flows (blueprints), defaults."""

from __future__ import annotations

import functools
import gc
import json
import logging
import re
import typing as t

import pytest
from flask import Blueprint, Flask
from flask.views import MethodView
from pki import test_ca_path as session_ca_path

from flask_enforce_https import ConfigurationError, EnforceHTTPS, HttpSecurity, Kind
from flask_enforce_https.declarations import Design

https = EnforceHTTPS()


def view() -> str:
    return "view"


def cli_json(app: Flask, *args: str) -> t.Any:
    """The JSON that ``flask https ARGS --format json`` prints."""
    result = app.test_cli_runner().invoke(args=["https", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def design(app: Flask, endpoint: str | None) -> Design:
    """``endpoint``'s design-time declaration as ``flask https explain``
    reports it for a GET of its URL (the rule ``flask https show`` lists for
    it); ``None`` is an unmatched URL."""
    path = "/no-such-url"
    if endpoint is not None:
        rows = cli_json(app, "show")
        [rule] = {row["rule"] for row in rows if row["endpoint"] == endpoint}
        path = re.sub(r"<[^>]*>", "x", rule)
    explained = cli_json(app, "explain", f"http://localhost{path}")
    assert explained["endpoint"] == endpoint
    match = re.fullmatch(r"(\S+) \((.+)\)", explained["design"])
    assert match is not None, explained["design"]
    return Design(Kind(explained["kind"]), HttpSecurity(match[1]), match[2])


def test_decorators_return_the_same_function() -> None:
    def page() -> str:
        return "page"

    assert https.screen("tls")(page) is page
    assert https.rest()(page) is page
    assert https.soap()(page) is page


@pytest.mark.parametrize(
    "above",
    [
        pytest.param(True, id="above-route"),
        pytest.param(False, id="below-route"),
    ],
)
def test_decorator_works_above_or_below_route(above: bool) -> None:
    app = Flask("shop")

    def page() -> str:
        return "page"

    if above:
        https.screen("tls")(app.route("/page")(page))
    else:
        app.route("/page")(https.screen("tls")(page))
    https.init_app(app)
    assert design(app, "page") == Design(Kind.SCREEN, HttpSecurity.TLS, "view")
    assert app.test_client().get("/page").status_code == 301


@pytest.mark.parametrize(
    ("decorator", "kind", "level", "origin"),
    [
        pytest.param(
            https.screen(), Kind.SCREEN, HttpSecurity.NONE, "default", id="screen"
        ),
        pytest.param(
            https.screen("tls"), Kind.SCREEN, HttpSecurity.TLS, "view", id="screen-tls"
        ),
        pytest.param(https.rest(), Kind.REST, HttpSecurity.TLS, "view", id="rest"),
        pytest.param(
            https.rest("none"), Kind.REST, HttpSecurity.NONE, "view", id="rest-none"
        ),
        pytest.param(https.soap(), Kind.SOAP, HttpSecurity.NONE, "view", id="soap"),
        pytest.param(
            https.soap(HttpSecurity.TLS_CLIENT_CERT),
            Kind.SOAP,
            HttpSecurity.TLS_CLIENT_CERT,
            "view",
            id="soap-cert",
        ),
    ],
)
def test_kind_and_default_level(
    decorator: t.Callable[[t.Callable[[], str]], t.Callable[[], str]],
    kind: Kind,
    level: HttpSecurity,
    origin: str,
) -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_CLIENT_CA"] = str(session_ca_path())
    app.add_url_rule("/v", view_func=decorator(lambda: "v"), endpoint="v")
    https.init_app(app)
    assert design(app, "v") == Design(kind, level, origin)


def test_bad_level_names_the_decorator() -> None:
    with pytest.raises(ConfigurationError, match=r"^rest\(\): expected one of"):
        https.rest("ssl")


def test_bound_method_cannot_be_declared() -> None:
    class Holder:
        def page(self) -> str:
            return "page"

    with pytest.raises(ConfigurationError, match="bound method"):
        https.screen()(Holder().page)


def make_flow_app(default: str = "none") -> Flask:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_DEFAULT_SECURITY"] = default
    members = https.screen("tls")(Blueprint("members", __name__))
    admin = Blueprint("admin", __name__)
    plain = Blueprint("plain", __name__)
    api = https.rest()(Blueprint("api", __name__))
    members.add_url_rule("/m/", "index", view)
    members.add_url_rule("/m/open", "open", https.screen("none")(lambda: "open"))
    members.add_url_rule("/m/inherit", "inherit", https.screen()(lambda: "inherit"))
    admin.add_url_rule("/m/admin/", "index", view)
    members.register_blueprint(admin)
    plain.add_url_rule("/p/", "index", view)
    api.add_url_rule("/api/", "index", view)
    app.register_blueprint(members)
    app.register_blueprint(members, name="club", url_prefix="/club")
    app.register_blueprint(plain)
    app.register_blueprint(api)
    app.add_url_rule("/", "home", view)
    https.init_app(app)
    return app


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        pytest.param(
            "members.index",
            Design(Kind.SCREEN, HttpSecurity.TLS, "blueprint 'members'"),
            id="flow-default",
        ),
        pytest.param(
            "members.open",
            Design(Kind.SCREEN, HttpSecurity.NONE, "view"),
            id="view-wins",
        ),
        pytest.param(
            "members.inherit",
            Design(Kind.SCREEN, HttpSecurity.TLS, "blueprint 'members'"),
            id="view-inherits-level",
        ),
        pytest.param(
            "members.admin.index",
            Design(Kind.SCREEN, HttpSecurity.TLS, "blueprint 'members'"),
            id="nested-flow",
        ),
        pytest.param(
            "club.index",
            Design(Kind.SCREEN, HttpSecurity.TLS, "blueprint 'club'"),
            id="renamed-registration",
        ),
        pytest.param(
            "plain.index",
            Design(Kind.SCREEN, HttpSecurity.NONE, "default"),
            id="undeclared-flow",
        ),
        pytest.param(
            "api.index",
            Design(Kind.REST, HttpSecurity.TLS, "blueprint 'api'"),
            id="rest-flow",
        ),
        pytest.param(
            "home", Design(Kind.SCREEN, HttpSecurity.NONE, "default"), id="undeclared"
        ),
        pytest.param(
            "static", Design(Kind.SCREEN, HttpSecurity.NONE, "default"), id="static"
        ),
        pytest.param(
            None, Design(Kind.SCREEN, HttpSecurity.NONE, "default"), id="unmatched"
        ),
    ],
)
def test_web_flow_defaults(endpoint: str | None, expected: Design) -> None:
    assert design(make_flow_app(), endpoint) == expected


def test_default_security_config_applies_to_undeclared() -> None:
    app = make_flow_app(default="tls")
    assert design(app, "home") == Design(Kind.SCREEN, HttpSecurity.TLS, "default")
    client = app.test_client()
    assert client.get("/").status_code == 301
    assert client.get("/nowhere").status_code == 301, "unmatched URLs too"
    assert client.get("/m/open").status_code == 200, "explicit none still wins"


def test_class_based_view_declared_on_the_class() -> None:
    @https.rest()
    class Orders(MethodView):
        def get(self) -> dict[str, int]:
            return {"count": 0}

    app = Flask("shop")
    app.add_url_rule("/orders", view_func=Orders.as_view("orders"))
    https.init_app(app)
    assert design(app, "orders").kind is Kind.REST
    assert app.test_client().get("/orders").status_code == 403


def test_unmatched_and_wrong_method_are_screens_at_the_default() -> None:
    app = Flask("shop")
    app.config["ENFORCE_HTTPS_SETTINGS"] = {
        "environment": {"force_https_screens": True}
    }
    app.add_url_rule("/only-get", "only_get", view)
    https.init_app(app)
    c = app.test_client()
    assert c.get("/missing").headers["Location"] == "https://localhost/missing"
    assert c.post("/only-get").status_code == 308, "405 URLs are redirected too"
    assert c.get("/missing", base_url="https://localhost").status_code == 404
    assert c.post("/only-get", base_url="https://localhost").status_code == 405


# Declarations where they are ignored ----------------------------------------


def declared_method_views() -> tuple[type[MethodView], type[MethodView]]:
    """A view class with a declared method, and a subclass inheriting it.

    Made per test: a declared method is a declared function, which would be
    reported as no endpoint's view in the other tests' apps.
    """

    class DeclaredMethod(MethodView):
        @https.rest()
        def get(self) -> dict[str, int]:
            return {"count": 0}

    class InheritsDeclaredMethod(DeclaredMethod):
        def post(self) -> dict[str, int]:
            return {"count": 1}

    return DeclaredMethod, InheritsDeclaredMethod


@pytest.mark.parametrize(
    "inherited",
    [
        pytest.param(False, id="own"),
        pytest.param(True, id="inherited"),
    ],
)
def test_declared_method_is_refused_at_init_app(inherited: bool) -> None:
    declared, inheriting = declared_method_views()
    app = Flask("shop")
    view_class = inheriting if inherited else declared
    app.add_url_rule("/orders", view_func=view_class.as_view("orders"))
    with pytest.raises(ConfigurationError) as raised:
        https.init_app(app)
    message = str(raised.value)
    line = declared.get.__code__.co_firstlineno
    assert message.startswith("rest(): declared on a method of a class-based view")
    assert f"DeclaredMethod.get ({__file__}:{line})" in message
    assert "declare the class (@https.rest() on the class)" in message
    assert "decorators = [https.rest()]" in message


def test_declared_method_added_later_fails_the_first_request() -> None:
    app = Flask("shop")
    app.testing = True  # raise, rather than answer 500
    https.init_app(app)
    declared, _ = declared_method_views()
    app.add_url_rule("/orders", view_func=declared.as_view("orders"))
    _, findings = check(app)
    assert "declaration-on-method" in [f["id"] for f in findings]
    with pytest.raises(ConfigurationError, match=r"DeclaredMethod\.get"):
        app.test_client().get("/orders")


def test_method_view_declared_in_decorators() -> None:
    class Orders(MethodView):
        decorators = [https.rest()]  # noqa: RUF012 (Flask's own attribute)

        def get(self) -> dict[str, int]:
            return {"count": 0}

    app = Flask("shop")
    app.add_url_rule("/orders", view_func=Orders.as_view("orders"))
    https.init_app(app)
    assert design(app, "orders").kind is Kind.REST
    assert app.test_client().get("/orders").status_code == 403


def without_wraps(view: t.Callable[[], str]) -> t.Callable[[], str]:
    def wrapper() -> str:
        return view()

    return wrapper


def with_wraps(view: t.Callable[[], str]) -> t.Callable[[], str]:
    @functools.wraps(view)
    def wrapper() -> str:
        return view()

    return wrapper


def check(app: Flask) -> tuple[int, list[dict[str, str]]]:
    """``flask https check --format json``: exit code and findings."""
    result = app.test_cli_runner().invoke(args=["https", "check", "--format", "json"])
    return result.exit_code, json.loads(result.output)


def test_declared_function_that_is_no_view_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="flask_enforce_https")
    app = Flask("shop")
    https.init_app(app)

    @app.get("/hidden")
    @without_wraps
    @https.rest()
    def hidden() -> str:
        return "hidden"

    code, findings = check(app)
    [finding] = [f for f in findings if f["id"] == "declaration-not-a-view"]
    where = f"hidden ({__file__}:"
    assert code == 1
    assert finding["severity"] == "error"
    assert "hidden" in finding["message"]
    assert where in finding["message"]
    # Never a failed request: the undeclared wrapper is served as a screen.
    assert app.test_client().get("/hidden").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("[declaration-not-a-view]" in m and where in m for m in logged)


def test_declared_function_wrapped_with_wraps_is_a_view(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gc.collect()  # the other tests' apps, and their unrouted functions
    caplog.set_level(logging.WARNING, logger="flask_enforce_https")
    app = Flask("shop")
    https.init_app(app)

    @app.get("/api")
    @with_wraps
    @https.rest()
    def api() -> str:
        return "api"

    code, findings = check(app)
    assert "declaration-not-a-view" not in [f["id"] for f in findings]
    assert code == 0
    assert app.test_client().get("/api").status_code == 403
    assert caplog.records == []


def test_views_of_another_app_of_the_module_are_not_reported() -> None:
    gc.collect()  # the other tests' apps, and their unrouted functions
    first, second = Flask("shop"), Flask("shop")
    first.add_url_rule("/a", "a", https.screen("tls")(lambda: "a"))
    second.add_url_rule("/b", "b", https.screen("tls")(lambda: "b"))
    https.init_app(first)
    https.init_app(second)
    for app in (first, second):
        _, findings = check(app)
        assert "declaration-not-a-view" not in [f["id"] for f in findings]
