"""basic_auth: HTTP Basic against werkzeug password hashes, with a limit on
failed attempts by client address and user name."""

from __future__ import annotations

import threading
import time
import typing as t

import pytest
from flask import Flask, request
from werkzeug.security import check_password_hash, generate_password_hash

from flask_enforce_https import ConfigurationError
from flask_enforce_https.console.auth import (
    BasicAuth,
    TooManyAttempts,
    basic_auth,
    hash_password,
)

from .conftest import (
    BEHIND_PROXY,
    CONSOLE,
    PROXY,
    cheap_hash,
    create_console_app,
    sign_in,
)

EDITORS = {"alice": cheap_hash("alice's secret"), "élodie": cheap_hash("mot de passe")}
READERS = {"bob": cheap_hash("bob's secret")}


def console(settings: t.Any = None, **limits: t.Any) -> Flask:
    return create_console_app(basic_auth(EDITORS, READERS, **limits), settings)


# -- who is let in -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        pytest.param(
            {"user": "alice", "password": "alice's secret"}, 200, "editor", id="editor"
        ),
        pytest.param(
            {"user": "bob", "password": "bob's secret"}, 200, "reader", id="reader"
        ),
        pytest.param(
            {"user": "élodie", "password": "mot de passe"},
            200,
            "editor",
            id="utf-8-name-and-password",
        ),
        pytest.param(
            {"user": "alice", "password": "bob's secret"},
            401,
            "nobody",
            id="wrong-password",
        ),
        pytest.param(
            {"user": "alice", "password": ""}, 401, "nobody", id="empty-password"
        ),
        pytest.param(
            {"user": "mallory", "password": "alice's secret"},
            401,
            "nobody",
            id="unknown-user",
        ),
        pytest.param(
            {"user": "Alice", "password": "alice's secret"},
            401,
            "nobody",
            id="names-are-case-sensitive",
        ),
        pytest.param({}, 401, "nobody", id="no-authorization-header"),
        pytest.param(
            {"Authorization": "Basic %%%not-base64"},
            401,
            "nobody",
            id="malformed-base64",
        ),
        pytest.param({"Authorization": "Basic"}, 401, "nobody", id="basic-alone"),
        pytest.param(
            {"Authorization": "Bearer YWxpY2U6YWxpY2UncyBzZWNyZXQ="},
            401,
            "nobody",
            id="another-scheme",
        ),
        pytest.param(
            {"Authorization": "Basic //79/A=="},
            401,
            "nobody",
            id="not-utf-8",
        ),
    ],
)
def test_who_is_let_in(headers: dict[str, str], status: int, body: str) -> None:
    app = console()
    if "user" in headers:
        assert sign_in(app.test_client(), headers["user"], headers["password"]) == (
            status,
            body,
        )
        return
    response = app.test_client().get("/_https/role", base_url=CONSOLE, headers=headers)
    assert (response.status_code, response.get_data(as_text=True)) == (status, body)


def test_a_refusal_carries_the_challenge() -> None:
    authorize = basic_auth(EDITORS, realm="shop console")
    assert authorize.challenge == 'Basic realm="shop console", charset="UTF-8"'
    response = (
        create_console_app(authorize)
        .test_client()
        .get("/_https/role", base_url=CONSOLE)
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == authorize.challenge


def test_passwords_are_only_for_https_pages() -> None:
    assert basic_auth(EDITORS).level == "tls"


def test_hash_password_makes_a_scrypt_hash_basic_auth_takes() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, "correct horse")
    app = create_console_app(basic_auth({"carol": stored}))
    assert sign_in(app.test_client(), "carol", "correct horse") == (200, "editor")
    assert sign_in(app.test_client(), "carol", "correct") == (401, "nobody")


def test_hash_password_refuses_an_empty_password() -> None:
    with pytest.raises(ConfigurationError, match="password: is empty"):
        hash_password("")


# -- what is refused when it is made -------------------------------------------


@pytest.mark.parametrize(
    ("editors", "readers", "options", "message"),
    [
        pytest.param(
            {"alice": "hunter2"},
            None,
            {},
            r"basic_auth editors\['alice'\]: is not a werkzeug password hash",
            id="plain-text-password",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            {"bob": "hunter2"},
            {},
            r"basic_auth readers\['bob'\]: is not a werkzeug password hash",
            id="plain-text-password-of-a-reader",
        ),
        pytest.param(
            {"alice": "plain$$hunter2"},
            None,
            {},
            "is not a werkzeug password hash",
            id="werkzeug-2-plain-method",
        ),
        pytest.param(
            {"alice": "pbkdf2:nosuchdigest:1000$salt$00ff"},
            None,
            {},
            "is not a werkzeug password hash",
            id="unknown-digest",
        ),
        pytest.param(
            {"alice": "scrypt:32768:8:1$salt$NOTHEX"},
            None,
            {},
            "is not a werkzeug password hash",
            id="hash-not-hex",
        ),
        pytest.param(
            {"alice": None},
            None,
            {},
            "is not a werkzeug password hash",
            id="not-a-string",
        ),
        pytest.param(
            {"alice": "scrypt:3:8:1$salt$00ff"},
            None,
            {},
            "basic_auth user 'alice': hash method 'scrypt:3:8:1' cannot be used",
            id="scrypt-cost-not-a-power-of-two",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            {"alice": cheap_hash("y")},
            {},
            r"readers\['alice'\]: is also an editor",
            id="editor-and-reader",
        ),
        pytest.param(
            {"al:ice": cheap_hash("x")},
            None,
            {},
            "without ':'",
            id="colon-in-name",
        ),
        pytest.param({"": cheap_hash("x")}, None, {}, "non-empty", id="empty-name"),
        pytest.param({}, {}, {}, "has no user", id="no-user"),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"max_failures": 0},
            "max_failures: must be a positive number",
            id="no-failure-allowed",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"window": float("inf")},
            "window: must be a positive number",
            id="infinite-window",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"window": "300"},
            "window: must be a positive number, not '300'",
            id="window-as-text",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"window": float("nan")},
            "window: must be a positive number",
            id="nan-window",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"tracked": 1.5},
            "must be whole numbers",
            id="fractional-tracked",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"realm": 'say "hi"'},
            "realm: must be printable ASCII without quotes",
            id="quote-in-realm",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"realm": "console\r\nSet-Cookie: x=1"},
            "realm: must be printable ASCII",
            id="newline-in-realm",
        ),
        pytest.param(
            {"alice": cheap_hash("x")},
            None,
            {"realm": ""},
            "realm: must be printable ASCII",
            id="empty-realm",
        ),
    ],
)
def test_refused_when_made(
    editors: dict[str, t.Any],
    readers: dict[str, t.Any] | None,
    options: dict[str, t.Any],
    message: str,
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        basic_auth(editors, readers, **options)
    # The value may be a password: never repeated.
    assert "hunter2" not in str(caught.value)


def test_readers_only_is_a_console_nobody_edits() -> None:
    app = create_console_app(basic_auth({}, READERS))
    assert sign_in(app.test_client(), "bob", "bob's secret") == (200, "reader")


def test_unknown_names_cost_a_hash_check_too() -> None:
    """An unknown name is checked against a hash as costly as the users'
    own, so that the time taken does not tell which names exist."""
    costly = generate_password_hash("secret", "pbkdf2:sha256:200000")
    app = create_console_app(basic_auth({"alice": costly}, max_failures=100))
    client = app.test_client()

    def fastest(user: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            sign_in(client, user, "wrong")
            times.append(time.perf_counter() - start)
        return min(times)

    known, unknown = fastest("alice"), fastest("mallory")
    assert unknown > known / 3, (known, unknown)


# -- the limit on failed attempts ----------------------------------------------


def fail(client: t.Any, times: int, user: str = "alice", **kwargs: t.Any) -> None:
    for _ in range(times):
        assert sign_in(client, user, "wrong", **kwargs) == (401, "nobody")


def test_the_sixth_attempt_is_refused_with_retry_after() -> None:
    client = console().test_client()
    fail(client, 5)
    status, retry_after = sign_in(client, "alice", "alice's secret")
    assert status == 429
    assert 1 <= int(retry_after) <= 300


def test_an_unknown_name_is_limited_like_a_known_one() -> None:
    client = console().test_client()
    fail(client, 5, user="mallory")
    assert sign_in(client, "mallory", "wrong")[0] == 429


def test_the_limit_is_an_exception_of_ours() -> None:
    authorize = basic_auth(EDITORS, max_failures=1, window=60)
    app = create_console_app(authorize)
    with app.test_request_context(
        "/_https/role",
        base_url=CONSOLE,
        headers={"Authorization": "Basic YWxpY2U6d3Jvbmc="},  # alice:wrong
    ):
        assert authorize(request) is None
        with pytest.raises(TooManyAttempts) as caught:
            authorize(request)
    assert caught.value.code == 429
    assert 59 <= caught.value.retry_after <= 60


@pytest.mark.parametrize(
    ("settings", "first", "second"),
    [
        pytest.param(
            None,
            {"user": "alice", "peer": "192.0.2.1"},
            {"user": "bob", "peer": "192.0.2.1"},
            id="another-user-same-address",
        ),
        pytest.param(
            None,
            {"user": "alice", "peer": "192.0.2.1"},
            {"user": "alice", "peer": "192.0.2.2"},
            id="same-user-another-address",
        ),
        pytest.param(
            BEHIND_PROXY,
            {
                "user": "alice",
                "peer": PROXY,
                "headers": {"X-Forwarded-For": "198.51.100.1"},
            },
            {
                "user": "alice",
                "peer": PROXY,
                "headers": {"X-Forwarded-For": "198.51.100.2"},
            },
            id="two-clients-behind-one-trusted-proxy",
        ),
    ],
)
def test_one_key_locked_leaves_the_others(
    settings: t.Any, first: dict[str, t.Any], second: dict[str, t.Any]
) -> None:
    client = console(settings).test_client()
    fail(client, 5, **first)
    assert sign_in(client, first["user"], "x", first["peer"], first.get("headers"))[
        0
    ] == (429)
    password = {"alice": "alice's secret", "bob": "bob's secret"}[second["user"]]
    assert sign_in(
        client, second["user"], password, second["peer"], second.get("headers")
    )[0] == (200)
    assert sign_in(client, second["user"], "x", second["peer"], second.get("headers"))[
        0
    ] == (401)


def test_an_untrusted_peers_x_forwarded_for_does_not_make_new_keys() -> None:
    """A client that is not behind a trusted proxy cannot pick its own key
    by sending a new X-Forwarded-For with each attempt."""
    client = console(BEHIND_PROXY).test_client()
    for n in range(5):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert sign_in(client, "alice", "wrong", "192.0.2.9", forged)[0] == 401
    forged = {"X-Forwarded-For": "198.51.100.99", "Forwarded": "for=198.51.100.98"}
    assert sign_in(client, "alice", "wrong", "192.0.2.9", forged)[0] == 429


def test_a_success_resets_no_counter_of_another_key() -> None:
    client = console().test_client()
    fail(client, 4, peer="192.0.2.1")
    assert sign_in(client, "alice", "alice's secret", "192.0.2.2") == (200, "editor")
    fail(client, 1, peer="192.0.2.1")
    assert sign_in(client, "alice", "alice's secret", "192.0.2.1")[0] == 429


def test_a_success_is_no_failure_and_keeps_earlier_ones() -> None:
    """HTTP Basic sends the password with every request: successes never
    lock the user out, nor give anyone sharing the address new tries."""
    client = console().test_client()
    for _ in range(10):
        assert sign_in(client, "alice", "alice's secret") == (200, "editor")
    fail(client, 4)
    assert sign_in(client, "alice", "alice's secret") == (200, "editor")
    fail(client, 1)
    assert sign_in(client, "alice", "alice's secret")[0] == 429


def test_failures_age_out_after_the_window() -> None:
    client = console(window=0.3).test_client()
    fail(client, 5)
    assert sign_in(client, "alice", "wrong")[0] == 429
    time.sleep(0.4)
    assert sign_in(client, "alice", "alice's secret") == (200, "editor")


def test_attempts_at_the_same_moment_cannot_pass_the_limit() -> None:
    """Each attempt counts before its password is checked: of 20 wrong
    attempts at once, 5 are checked and 15 refused."""
    app = console()
    barrier = threading.Barrier(20)
    results: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        status, _ = sign_in(client, "alice", "wrong")
        with lock:
            results.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [401] * 5 + [429] * 15


def test_the_key_that_failed_longest_ago_is_forgotten_first() -> None:
    client = console(tracked=3).test_client()
    fail(client, 5, peer="192.0.2.1")
    fail(client, 5, peer="192.0.2.2")
    assert sign_in(client, "alice", "x", "192.0.2.1")[0] == 429
    fail(client, 1, peer="192.0.2.3")
    fail(client, 1, peer="192.0.2.4")  # a fourth key: 192.0.2.1 is forgotten
    assert sign_in(client, "alice", "alice's secret", "192.0.2.1") == (200, "editor")
    assert sign_in(client, "alice", "x", "192.0.2.2")[0] == 429


def test_memory_is_bounded_whatever_clients_send() -> None:
    """No public surface tells how many keys are remembered: the table is
    read directly. Long names count by their digest."""
    authorize = basic_auth(EDITORS, tracked=50)
    client = create_console_app(authorize).test_client()
    for n in range(200):
        sign_in(client, "x" * 5000 + str(n), "wrong", f"192.0.2.{n % 250}")
    table = authorize._limit._failures
    assert len(table) == 50
    assert max(len(name) for _, name in table) < 100


def test_the_authorizer_says_what_it_is() -> None:
    authorize = basic_auth(EDITORS, READERS)
    assert isinstance(authorize, BasicAuth)
    assert repr(authorize) == (
        "<BasicAuth realm='flask-enforce-https console' users=3>"
    )
