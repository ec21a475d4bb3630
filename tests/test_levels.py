"""HttpSecurity: an ordered enum whose string values are accepted anywhere."""

from __future__ import annotations

import pytest

from flask_enforce_https import ConfigurationError, HttpSecurity


def test_levels_are_ordered() -> None:
    assert HttpSecurity.NONE < HttpSecurity.TLS < HttpSecurity.TLS_CLIENT_CERT
    assert HttpSecurity.TLS_CLIENT_CERT > HttpSecurity.NONE
    assert HttpSecurity.TLS <= HttpSecurity.TLS >= HttpSecurity.TLS
    assert max(HttpSecurity) is HttpSecurity.TLS_CLIENT_CERT
    assert sorted(
        [HttpSecurity.TLS_CLIENT_CERT, HttpSecurity.NONE, HttpSecurity.TLS]
    ) == list(HttpSecurity)


def test_levels_do_not_compare_with_strings() -> None:
    with pytest.raises(TypeError):
        assert HttpSecurity.TLS < "tls-client-cert"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "level"),
    [
        pytest.param("none", HttpSecurity.NONE, id="none"),
        pytest.param("tls", HttpSecurity.TLS, id="tls"),
        pytest.param(
            "tls-client-cert", HttpSecurity.TLS_CLIENT_CERT, id="tls-client-cert"
        ),
        pytest.param(" TLS ", HttpSecurity.TLS, id="case-and-space"),
        pytest.param(HttpSecurity.TLS, HttpSecurity.TLS, id="member"),
    ],
)
def test_coerce_accepts_values_and_members(
    value: str | HttpSecurity, level: HttpSecurity
) -> None:
    assert HttpSecurity.coerce(value) is level


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("ssl", id="ssl"),
        pytest.param("", id="empty"),
        pytest.param(1, id="int"),
        pytest.param(None, id="none"),
    ],
)
def test_coerce_names_the_key_and_the_choices(value: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        HttpSecurity.coerce(value, "ENFORCE_HTTPS_DEFAULT_SECURITY")  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("ENFORCE_HTTPS_DEFAULT_SECURITY:")
    assert "'tls-client-cert'" in message
    assert repr(value) in message


def test_requires_tls() -> None:
    assert not HttpSecurity.NONE.requires_tls
    assert HttpSecurity.TLS.requires_tls
    assert HttpSecurity.TLS_CLIENT_CERT.requires_tls
