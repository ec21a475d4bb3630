"""The administrator settings schema: every error names its key."""

from __future__ import annotations

import ipaddress
import typing as t

import pytest

from flask_enforce_https import Settings, SettingsError
from flask_enforce_https.settings import (
    ApplicationSettings,
    EnvironmentSettings,
    parse_settings,
)


def test_empty_settings_are_the_defaults() -> None:
    settings = parse_settings({})
    assert settings == Settings()
    environment = settings.environment
    assert environment.hsts is False
    assert environment.hsts_max_age == 31536000
    assert environment.hsts_excluded_hosts == ("localhost", "127.0.0.1", "::1")
    assert environment.trusted_proxies == ()
    assert settings.application("anything") == ApplicationSettings()


def test_full_settings_are_normalised() -> None:
    settings = parse_settings(
        {
            "environment": {
                "hsts": True,
                "hsts_max_age": 0,
                "hsts_include_subdomains": True,
                "hsts_preload": True,
                "hsts_excluded_hosts": ["Dev.Example.COM", "[::1]"],
                "force_https_screens": True,
                "force_https_integrations": True,
                "secure_cookies": True,
                "trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "::1"],
                "exempt_paths": ["/healthz", "/.well-known/acme-challenge/"],
            },
            "applications": {
                "shop": {"force_https_screens": True, "exempt_paths": ["/ping"]},
                "blog": {},
            },
        }
    )
    environment = settings.environment
    assert environment.hsts_max_age == 0
    assert environment.hsts_excluded_hosts == ("dev.example.com", "::1")
    assert environment.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.application("shop") == ApplicationSettings(
        force_https_screens=True, exempt_paths=("/ping",)
    )
    assert settings.application("blog") == ApplicationSettings()


def test_settings_are_immutable() -> None:
    settings = parse_settings({"applications": {"shop": {}}})
    with pytest.raises(AttributeError):
        settings.environment.hsts = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.applications["blog"] = ApplicationSettings()  # type: ignore[index]


BAD: list[tuple[str, t.Any, str, str]] = [
    ("not-a-table", ["hsts"], "", "expected a table of settings"),
    ("unknown-section", {"environmnet": {}}, "environmnet", "unknown section"),
    ("environment-not-table", {"environment": True}, "environment",
     "expected a table"),
    ("unknown-key", {"environment": {"force_http_screens": True}},
     "environment.force_http_screens", "unknown setting"),
    ("bool-as-string", {"environment": {"hsts": "yes"}}, "environment.hsts",
     "expected true or false"),
    ("bool-as-int", {"environment": {"secure_cookies": 1}},
     "environment.secure_cookies", "expected true or false"),
    ("negative-max-age", {"environment": {"hsts_max_age": -1}},
     "environment.hsts_max_age", ">= 0"),
    ("bool-max-age", {"environment": {"hsts_max_age": True}},
     "environment.hsts_max_age", ">= 0"),
    ("float-max-age", {"environment": {"hsts_max_age": 1.5}},
     "environment.hsts_max_age", ">= 0"),
    ("hosts-as-string", {"environment": {"hsts_excluded_hosts": "localhost"}},
     "environment.hsts_excluded_hosts", "list of strings"),
    ("host-with-slash", {"environment": {"hsts_excluded_hosts": ["a/b"]}},
     "environment.hsts_excluded_hosts", "host names"),
    ("bad-proxy", {"environment": {"trusted_proxies": ["proxy.local"]}},
     "environment.trusted_proxies", "CIDR"),
    ("proxy-host-bits", {"environment": {"trusted_proxies": ["10.0.0.1/8"]}},
     "environment.trusted_proxies", "10.0.0.1/8"),
    ("proxy-not-string", {"environment": {"trusted_proxies": [10]}},
     "environment.trusted_proxies", "list of strings"),
    ("relative-path", {"environment": {"exempt_paths": ["healthz"]}},
     "environment.exempt_paths", "starting with '/'"),
    ("path-with-space", {"environment": {"exempt_paths": ["/a b"]}},
     "environment.exempt_paths", "starting with '/'"),
    ("applications-not-table", {"applications": ["shop"]}, "applications",
     "table of application names"),
    ("application-not-table", {"applications": {"shop": True}},
     "applications.shop", "expected a table"),
    ("hsts-under-application", {"applications": {"shop": {"hsts": True}}},
     "applications.shop.hsts", "only the environment"),
    ("proxies-under-application",
     {"applications": {"shop": {"trusted_proxies": ["127.0.0.1"]}}},
     "applications.shop.trusted_proxies", "only the environment"),
    ("unknown-under-application",
     {"applications": {"shop": {"force_https_screen": True}}},
     "applications.shop.force_https_screen", "unknown setting"),
    ("bad-value-under-application",
     {"applications": {"shop": {"force_https_integrations": "on"}}},
     "applications.shop.force_https_integrations", "true or false"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "key", "problem"), [pytest.param(*row[1:], id=row[0]) for row in BAD]
)
def test_invalid_settings_name_source_key_and_problem(
    data: t.Any, key: str, problem: str
) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(data, source="settings.toml", locate=lambda k: 7)
    error = info.value
    assert error.source == "settings.toml"
    assert error.key == key
    assert problem in error.problem
    assert str(error).startswith("settings.toml")
    if key:
        assert f": {key}: " in str(error)
        assert error.line == 7
        assert "line 7" in str(error)


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings({"applications": {"shop": {"hsts_preload": True}}})
    assert "only the environment can set this" in str(info.value)
    with pytest.raises(SettingsError) as info:
        parse_settings({"applications": {"shop": {"force": True}}})
    assert "exempt_paths, force_https_integrations" in str(info.value)


def test_environment_keys_include_application_keys() -> None:
    environment = EnvironmentSettings(force_https_screens=True, exempt_paths=("/a",))
    assert isinstance(environment, ApplicationSettings)
