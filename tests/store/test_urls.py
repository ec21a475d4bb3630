"""Store URLs: which are taken, and a password never shown, not even in the
error of a connection that fails."""

from __future__ import annotations

import traceback

import pytest
from conftest import free_ports

from flask_enforce_https.store import (
    SchemaError,
    Store,
    StoreError,
    StoreURLError,
    hide_password,
    is_store_url,
    parse_url,
)

from .conftest import database_url

#: Written in URLs percent-encoded; neither form may show.
PASSWORD = "Sup3r:S3cret@pw/"
ENCODED = "Sup3r%3AS3cret%40pw%2F"


def shown(error: BaseException) -> str:
    """Everything an error puts in front of a person: its message, its repr
    and the traceback a log would hold."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def assert_hidden(text: str) -> None:
    assert PASSWORD not in text
    assert ENCODED not in text
    assert "S3cret" not in text


@pytest.mark.parametrize(
    ("text", "dialect", "schema"),
    [
        pytest.param("sqlite:///settings.db", "sqlite", None, id="sqlite-relative"),
        pytest.param("sqlite:////srv/s.db", "sqlite", None, id="sqlite-absolute"),
        pytest.param(
            "postgresql+psycopg://app@db.internal/ops", "postgresql", None, id="pg"
        ),
        pytest.param(
            "postgresql://app@db.internal:6432/ops", "postgresql", None, id="pg-bare"
        ),
        pytest.param(
            "postgresql+psycopg://app@db/ops?schema=enforce&sslmode=require",
            "postgresql",
            "enforce",
            id="pg-schema",
        ),
    ],
)
def test_store_urls_taken(text: str, dialect: str, schema: str | None) -> None:
    url = parse_url(text)
    assert is_store_url(text)
    assert (url.dialect, url.schema) == (dialect, schema)
    assert "schema" not in url.url.query
    if dialect == "postgresql":
        assert url.url.drivername == "postgresql+psycopg"


def test_the_schema_is_shown_with_the_url() -> None:
    url = parse_url("postgresql://app@db/ops?sslmode=require&schema=enforce")
    assert str(url) == (
        "postgresql+psycopg://app@db/ops?sslmode=require&schema=enforce"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("sqlite://", "name it", id="sqlite-memory"),
        pytest.param("sqlite:///:memory:", "name it", id="sqlite-memory-named"),
        pytest.param(
            "sqlite:///s.db?schema=x", "only a PostgreSQL", id="sqlite-schema"
        ),
        pytest.param("mysql://u@h/db", "not a store URL", id="mysql"),
        pytest.param("postgresql+psycopg2://u@h/db", "not a store URL", id="psycopg2"),
        pytest.param("postgresql+psycopg://u@h", "name the database", id="no-db"),
        pytest.param("postgresql://u@h/db?schema=Ops", "lowercase", id="schema-case"),
        pytest.param("postgresql://u@h/db?schema=a;b", "lowercase", id="schema-sql"),
        pytest.param(
            "postgresql://u@h/db?schema=a&schema=b", "lowercase", id="two-schemas"
        ),
        pytest.param("settings.toml", "not a URL", id="file"),
    ],
)
def test_other_urls_are_refused_clearly(text: str, problem: str) -> None:
    with pytest.raises(StoreURLError, match=problem):
        parse_url(text)


def test_files_are_not_store_urls() -> None:
    assert not is_store_url("/etc/enforce-https/settings.toml")
    assert not is_store_url("settings.json")
    assert not is_store_url("https://example.com/settings.toml")


def test_a_password_is_never_in_a_url_shown() -> None:
    text = f"postgresql+psycopg://app:{ENCODED}@db/ops"
    url = parse_url(text)
    assert url.url.password == PASSWORD
    for seen in (hide_password(text), str(url), repr(url), repr(Store(url))):
        assert_hidden(seen)
        assert "app:***@db" in seen


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"postgresql+psycopg://app:{ENCODED}@db", id="no-database"),
        pytest.param(f"postgresql+psycopg://app:{ENCODED}@db:port/ops", id="bad-port"),
        pytest.param(f"mysql://app:{ENCODED}@db/ops", id="other-scheme"),
    ],
)
def test_a_password_is_never_in_a_url_refused(text: str) -> None:
    assert_hidden(hide_password(text))
    with pytest.raises(StoreURLError) as caught:
        parse_url(text)
    assert_hidden(shown(caught.value))
    assert "app:***@db" in str(caught.value)


def test_a_password_is_never_in_a_connection_error() -> None:
    (port,) = free_ports(1)  # nothing listens there
    url = f"postgresql+psycopg://postgres:{ENCODED}@127.0.0.1:{port}/test"
    with Store(url, timeout=2) as store:
        for use in (store.init, store.check, store.head):
            with pytest.raises(StoreError) as caught:
                use()
            text = shown(caught.value)
            assert_hidden(text)
            assert f"postgresql+psycopg://postgres:***@127.0.0.1:{port}/test" in text
            assert "refused" in str(caught.value)


def test_a_password_is_never_in_a_database_error(postgresql_schema: str) -> None:
    # The test server trusts loopback: the password is sent, and ignored.
    base = parse_url(database_url()).url.set(password=PASSWORD)
    url = f"{base.render_as_string(hide_password=False)}?schema={postgresql_schema}"
    with Store(url) as store:
        with pytest.raises(SchemaError) as missing:
            store.check()
        assert_hidden(shown(missing.value))
        store.init()
        with pytest.raises(StoreError) as refused:
            store.heartbeat("web1", 1, "x" * 10, 2**40)  # pid out of range
        assert_hidden(shown(refused.value))
        assert "out of range" in str(refused.value)
