"""``flask https explain`` agrees with what a real request gets.

Each case sends the same request to the app mounted in a real server on
loopback (werkzeug's, which sets ``REQUEST_URI`` as servers do), or through
``run_wsgi_app`` with the environ gunicorn makes, and compares status,
``Location`` and HSTS with what ``explain`` says: for an app mounted under a prefix
(``--script-name``, or ``APPLICATION_ROOT``), for ``//`` paths, for URLs no
route matches (404) and methods a route does not allow (405), and for
Flask's own redirect to a URL's canonical form. A bad URL, port or script
name is one line, exit status 2.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

import pytest
from clirun import run
from conftest import create_app, send_raw, serving
from flask import Flask
from flask.testing import FlaskCliRunner
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

HOST = "shop.example.com"
#: 127.0.0.1 is trusted, so X-Forwarded-Proto makes a request HTTPS.
SETTINGS: dict[str, t.Any] = {
    "environment": {"trusted_proxies": ["127.0.0.1"], "exempt_paths": ["/healthz"]}
}
HTTPS = ("X-Forwarded-Proto", "https")

#: (method, path under the app, headers)
CASES: list[t.Any] = [
    pytest.param("GET", "/secure", [], id="redirected"),
    pytest.param("POST", "/secure?a=1", [], id="redirected-308"),
    pytest.param("GET", "/", [], id="served"),
    pytest.param("GET", "/secure", [HTTPS], id="https-served"),
    pytest.param("GET", "/api/orders", [], id="rest-rejected"),
    pytest.param("GET", "/nowhere", [], id="no-route-404"),
    pytest.param("GET", "/nowhere", [HTTPS], id="https-no-route-404"),
    pytest.param("POST", "/api/status", [], id="other-method-405"),
    pytest.param("GET", "/soap", [], id="other-method-of-tls-soap-403"),
    pytest.param("DELETE", "/account/login", [], id="other-method-of-tls-screen"),
    pytest.param("GET", "/account", [], id="slash-redirect-of-tls-screen"),
    pytest.param("GET", "/account", [HTTPS], id="https-flask-slash-redirect"),
    pytest.param("GET", "//secure", [], id="double-slash-tls"),
    pytest.param("GET", "//", [], id="double-slash-root"),
    pytest.param("GET", "//evil.example/", [], id="double-slash-host-like"),
    pytest.param("GET", "/page//", [HTTPS], id="double-slash-merged"),
    pytest.param("GET", "/healthz", [], id="exempt"),
    pytest.param("GET", "/caf%C3%A9?q=%26", [], id="escapes"),
]


def explain(runner: FlaskCliRunner, url: str, *options: str) -> dict[str, t.Any]:
    result = run(runner, "explain", url, *options, "--format", "json")
    assert result.exit_code == 0, result.output
    return t.cast("dict[str, t.Any]", json.loads(result.output))


def not_here(environ: t.Any, start_response: t.Any) -> t.Iterable[bytes]:
    """What the server answers outside the mounted app."""
    return Response("elsewhere", 418)(environ, start_response)


@pytest.fixture(scope="module")
def root_app() -> Flask:
    return create_app(SETTINGS)


@pytest.fixture(scope="module")
def mounted_app() -> Flask:
    """Mounted under /orders; APPLICATION_ROOT says so too."""
    return create_app(SETTINGS, APPLICATION_ROOT="/orders")


@pytest.fixture(scope="module")
def port(root_app: Flask, mounted_app: Flask) -> Iterator[int]:
    """One server: the mounted app under /orders, the other app under /root."""
    wsgi = DispatcherMiddleware(not_here, {"/orders": mounted_app, "/root": root_app})
    with serving(wsgi) as number:  # type: ignore[arg-type]
        yield number


def assert_agree(
    result: dict[str, t.Any], port: int, method: str, target: str, headers: list[t.Any]
) -> None:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in headers]
    reply = send_raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    location = reply.get_all("Location")
    hsts = reply.get_all("Strict-Transport-Security")
    if result["status"] is None:  # served: every view of the app answers 200
        assert reply.status == 200, (result, reply)
    else:
        assert reply.status == result["status"], (result, reply)
    assert location == ([result["location"]] if result["location"] else []), (
        result,
        reply,
    )
    assert hsts == ([result["hsts"]] if result["hsts"] else [])


def options(headers: list[t.Any]) -> list[str]:
    return [arg for name, value in headers for arg in ("-H", f"{name}: {value}")]


@pytest.mark.parametrize(("method", "path", "headers"), CASES)
def test_mounted_with_script_name(
    root_app: Flask, port: int, method: str, path: str, headers: list[t.Any]
) -> None:
    target = f"/root{path}"
    result = explain(
        root_app.test_cli_runner(),
        f"http://{HOST}{target}",
        "-X",
        method,
        "--script-name",
        "/root",
        *options(headers),
    )
    assert result["script_name"] == "/root"
    assert_agree(result, port, method, target, headers)


@pytest.mark.parametrize(("method", "path", "headers"), CASES)
def test_mounted_at_application_root(
    mounted_app: Flask, port: int, method: str, path: str, headers: list[t.Any]
) -> None:
    target = f"/orders{path}"
    result = explain(
        mounted_app.test_cli_runner(),
        f"http://{HOST}{target}",
        "-X",
        method,
        *options(headers),
    )
    assert result["script_name"] == "/orders"
    assert_agree(result, port, method, target, headers)


def server_environ(method: str, target: str, headers: list[t.Any]) -> t.Any:
    """The environ gunicorn makes of a request: ``PATH_INFO`` and
    ``RAW_URI`` as sent. (Python's http.server, under werkzeug's, turns a
    leading ``//`` into ``/`` itself.)"""
    builder = EnvironBuilder(
        method=method,
        base_url=f"http://{HOST}",
        headers=headers,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    path, _, query = target.partition("?")
    environ.update(
        SCRIPT_NAME="",
        PATH_INFO=unquote_to_bytes(path).decode("latin-1"),
        QUERY_STRING=query,
        RAW_URI=target,
        REQUEST_URI=target,
    )
    return environ


@pytest.mark.parametrize(("method", "path", "headers"), CASES)
def test_not_mounted(method: str, path: str, headers: list[t.Any]) -> None:
    app = create_app(SETTINGS)
    result = explain(
        app.test_cli_runner(), f"http://{HOST}{path}", "-X", method, *options(headers)
    )
    assert result["script_name"] == ""
    _, status, response_headers = run_wsgi_app(
        app, server_environ(method, path, headers), buffered=True
    )
    if result["status"] is None:
        assert status.startswith("200 "), (result, status)
    else:
        assert int(status.split()[0]) == result["status"], (result, status)
    assert response_headers.get("Location") == result["location"]
    assert response_headers.get("Strict-Transport-Security") == result["hsts"]


def test_explicit_empty_script_name_overrides_application_root(
    mounted_app: Flask,
) -> None:
    result = explain(
        mounted_app.test_cli_runner(),
        f"http://{HOST}/orders/secure",
        "--script-name",
        "",
    )
    assert result["script_name"] == ""
    assert result["endpoint"] is None
    assert result["outcome"] == "not found"


def test_a_url_outside_application_root_is_explained_unmounted(
    mounted_app: Flask,
) -> None:
    result = explain(mounted_app.test_cli_runner(), f"http://{HOST}/secure")
    assert result["script_name"] == ""
    assert result["endpoint"] == "secure"


def test_no_route_and_other_method_in_words(root_app: Flask) -> None:
    runner = root_app.test_cli_runner()
    result = explain(runner, f"http://{HOST}/nowhere")
    assert (result["endpoint"], result["outcome"], result["status"]) == (
        None,
        "not found",
        404,
    )
    assert "no route" in result["reasons"][-1]

    result = run(runner, "explain", f"http://{HOST}/nowhere")
    assert "endpoint:  no route (screen)" in result.output
    assert "None" not in result.output
    assert "outcome:   not found 404" in result.output

    result = explain(runner, f"http://{HOST}/api/status", "-X", "POST")
    assert (result["endpoint"], result["outcome"], result["status"]) == (
        "status",
        "method not allowed",
        405,
    )
    assert result["reasons"][-1] == (
        "Flask answers 405: status does not allow POST; it allows GET, HEAD, OPTIONS"
    )

    result = run(
        runner, "explain", f"http://{HOST}/root/secure", "--script-name", "/root"
    )
    assert "mounted:   /root" in result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["http://shop.example.com:99999/"], ["port"], id="port-range"),
        pytest.param(["http://shop.example.com:https/"], ["port"], id="port-name"),
        pytest.param(["http://[::1/"], ["invalid URL"], id="bad-ipv6"),
        pytest.param(["ftp://x/"], ["http or https"], id="scheme"),
        pytest.param(["http://"], ["http or https"], id="no-host"),
        pytest.param(["/secure"], ["http or https"], id="relative"),
        pytest.param(
            ["http://x/secure", "--script-name", "/orders"],
            ["not under the script name '/orders'"],
            id="not-under-script-name",
        ),
        pytest.param(
            ["http://x/ordersx/secure", "--script-name", "/orders"],
            ["not under"],
            id="script-name-is-a-whole-segment",
        ),
        pytest.param(
            ["http://x/orders/secure", "--script-name", "orders"],
            ["starting with '/'"],
            id="script-name-without-slash",
        ),
        pytest.param(["-H", "nocolon", "http://x/"], ["Name: value"], id="header"),
    ],
)
def test_bad_input_is_one_line(
    root_app: Flask, args: list[str], words: list[str]
) -> None:
    result = run(root_app.test_cli_runner(), "explain", *args)
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("Error: ")
    for word in words:
        assert word in line
