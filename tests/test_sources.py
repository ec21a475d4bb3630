"""Settings files: loading, fail-fast errors, hot reload, last-known-good.

Most tests go through an app; ``FileSource`` is driven directly where a test
sets its clock or its stability window, which through an app would be real
seconds of waiting.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import typing as t
from pathlib import Path

import pytest
from conftest import create_app
from flask import Flask

from flask_enforce_https import ConfigurationError, SettingsError, signals
from flask_enforce_https.settings import Settings
from flask_enforce_https.sources import MAX_SIZE, STABLE_FOR, FileSource

FORCED = "[environment]\nforce_https_screens = true\n"
OPEN = "[environment]\nforce_https_screens = false\n"


def write(path: Path, text: str | bytes) -> None:
    """Replace ``path`` atomically, as an administrator's tool would."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(text.encode() if isinstance(text, str) else text)
    os.replace(temporary, path)


def reloading_app(path: Path, **config: t.Any) -> Flask:
    return create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=0, **config)


def status(app: Flask, path: str = "/") -> int:
    return app.test_client().get(path).status_code


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param("settings.toml", FORCED, id="toml"),
        pytest.param(
            "settings.json",
            json.dumps({"environment": {"force_https_screens": True}}),
            id="json",
        ),
    ],
)
def test_file_sources(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert status(create_app(str(path))) == 301
    assert status(create_app(path)) == 301, "a Path works too"


def test_environment_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    monkeypatch.setenv("ENFORCE_HTTPS_SETTINGS", str(path))
    assert status(create_app()) == 301
    # The config key wins over the variable.
    assert status(create_app({})) == 200


def test_unknown_extension_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("environment: {}")
    with pytest.raises(ConfigurationError, match=r"^ENFORCE_HTTPS_SETTINGS: .*yaml"):
        create_app(str(path))


@pytest.mark.parametrize(
    "interval",
    [
        pytest.param(-1, id="negative"),
        pytest.param("2", id="string"),
        pytest.param(True, id="bool"),
    ],
)
def test_bad_reload_interval(tmp_path: Path, interval: object) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    with pytest.raises(ConfigurationError, match=r"^ENFORCE_HTTPS_RELOAD_INTERVAL"):
        create_app(str(path), ENFORCE_HTTPS_RELOAD_INTERVAL=interval)


DEEP_TOML = b"[environment]\nexempt_paths = " + b"[" * 5000 + b"]" * 5000 + b"\n"
DEEP_JSON = b'{"environment": {"exempt_paths": ' + b"[" * 100000 + b"]" * 100000 + b"}}"
LONG_INT_TOML = b"[environment]\nhsts_max_age = " + b"1" * 5000 + b"\n"
LONG_INT_JSON = b'{"environment": {"hsts_max_age": ' + b"1" * 5000 + b"}}"

BAD_FILES: list[tuple[str, str, bytes, str, str, int | None]] = [
    ("toml-syntax", "s.toml", b"[environment]\nhsts = \n", "", "invalid TOML", 2),
    ("json-syntax", "s.json", b'{"environment": {\n"hsts": true,\n}}', "",
     "invalid JSON", 3),
    ("toml-type", "s.toml", b"[environment]\n\nhsts = 'yes'\n", "environment.hsts",
     "true or false", 3),
    ("json-type", "s.json",
     b'{\n  "environment": {\n    "hsts_max_age": -1\n  }\n}',
     "environment.hsts_max_age", ">= 0", 3),
    ("toml-unknown", "s.toml", b"[environment]\nforce_http_screens = true\n",
     "environment.force_http_screens", "unknown setting", 2),
    ("toml-app-hsts", "s.toml", b"[environment]\n[applications.shop]\nhsts = true\n",
     "applications.shop.hsts", "only the environment", 3),
    ("toml-bad-cidr", "s.toml",
     b'[environment]\ntrusted_proxies = ["10.0.0.1/8"]\n',
     "environment.trusted_proxies", "CIDR", 2),
    ("toml-dotted-key", "s.toml", b"environment.hsts = 1\n", "environment.hsts",
     "true or false", 1),
    ("empty", "s.toml", b"", "", "empty", None),
    ("blank", "s.json", b"  \n\n", "", "empty", None),
    ("binary", "s.toml", b"\x00\xff\xfe garbage \x80", "", "not UTF-8", None),
    ("toml-deep", "s.toml", DEEP_TOML, "", "nested too deeply", None),
    ("json-deep", "s.json", DEEP_JSON, "", "nested too deeply", None),
    ("toml-long-int", "s.toml", LONG_INT_TOML, "", "ValueError", None),
    ("json-long-int", "s.json", LONG_INT_JSON, "", "ValueError", None),
    ("json-duplicate", "s.json",
     b'{"environment": {"hsts": true, "hsts": false}}', "",
     "'hsts' appears twice", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "key", "problem", "line"),
    [pytest.param(*row[1:], id=row[0]) for row in BAD_FILES],
)
def test_bad_file_fails_fast_naming_file_key_and_line(
    tmp_path: Path, name: str, data: bytes, key: str, problem: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SettingsError) as info:
        create_app(str(path))
    error = info.value
    assert error.source == str(path)
    assert error.key == key
    assert problem in error.problem
    assert error.line == line
    assert str(error).startswith(str(path))


def test_missing_file_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(SettingsError, match="cannot read the file"):
        create_app(str(path))


def test_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    with pytest.raises(SettingsError, match=f"limited to {MAX_SIZE} bytes"):
        create_app(str(path))


def test_change_is_applied_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OPEN)
    app = reloading_app(path)
    client = app.test_client()
    applied: list[dict[str, t.Any]] = []

    def record(sender: Flask, **extra: t.Any) -> None:
        assert sender is app
        applied.append(extra)

    with signals.settings_applied.connected_to(record, app):
        assert client.get("/").status_code == 200
        write(path, FORCED)
        assert client.get("/").status_code == 301
        assert client.get("/").status_code == 301
    assert len(applied) == 1, "once per version"
    assert applied[0]["source"] == str(path)
    assert applied[0]["settings"].environment.force_https_screens is True


def test_change_is_logged_with_what_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OPEN)
    app = reloading_app(path)
    write(path, FORCED + "hsts_max_age = 600\n")
    with caplog.at_level(logging.INFO, logger="flask_enforce_https"):
        status(app)
    assert "environment.force_https_screens: false -> true" in caplog.text
    assert "environment.hsts_max_age: 31536000 -> 600" in caplog.text


BAD_VERSIONS: list[tuple[str, bytes | None]] = [
    ("invalid-toml", b"[environment\nforce_https_screens = false\n"),
    ("invalid-value", b"[environment]\nforce_https_screens = 'no'\n"),
    ("half-written", FORCED.encode()[:20]),
    ("empty", b""),
    ("binary", b"\xff\xfe\x00\x00"),
    ("deleted", None),
    ("deep", DEEP_TOML),
    ("long-int", LONG_INT_TOML),
]


@pytest.mark.parametrize(
    "data", [pytest.param(row[1], id=row[0]) for row in BAD_VERSIONS]
)
def test_bad_version_keeps_last_known_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, data: bytes | None
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    app = reloading_app(path)
    rejected: list[dict[str, t.Any]] = []

    def record(sender: Flask, **extra: t.Any) -> None:
        rejected.append(extra)

    if data is None:
        path.unlink()
    else:
        # In place, not atomically: a reader may see it half-written.
        path.write_bytes(data)
    with (
        signals.settings_rejected.connected_to(record, app),
        caplog.at_level(logging.ERROR, logger="flask_enforce_https"),
    ):
        for _ in range(3):
            assert status(app) == 301, "last known good stays in force"
    assert len(rejected) == 1, "one signal per bad version"
    assert rejected[0]["source"] == str(path)
    assert isinstance(rejected[0]["error"], SettingsError)
    assert len(caplog.records) == 1, "one log line per bad version"
    assert str(path) in caplog.text
    assert "stale" in app.extensions["enforce_https"].source.status().state
    # A good version afterwards is applied, and the state is ok again.
    write(path, OPEN)
    assert status(app) == 200
    assert app.extensions["enforce_https"].source.status().state == "ok"


def test_two_bad_versions_are_both_reported(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    source = FileSource(path, 0)
    errors: list[SettingsError] = []
    source.rejected.append(errors.append)
    write(path, "[environment]\nhsts = 1\n")
    source.current()
    write(path, "[environment]\nhsts = 2\n")
    source.current()
    source.current()
    assert [e.problem for e in errors] == [
        "expected true or false, got 1",
        "expected true or false, got 2",
    ]


def test_same_size_rewrite_within_one_tick_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    source = FileSource(path, 0)
    before = os.stat(path)
    # Same inode, same size, same mtime: only the content differs.
    path.write_text("[environment]\nforce_https_screens = false")
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert source.current().environment.force_https_screens is False


def test_reload_interval_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OPEN)
    now = [100.0]
    source = FileSource(path, 2, clock=lambda: now[0])
    stats: list[str] = []
    real_stat = os.stat

    def counting_stat(target: t.Any, *args: t.Any, **kwargs: t.Any) -> os.stat_result:
        if str(target) == str(path):
            stats.append(str(target))
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    write(path, FORCED)
    now[0] = 101.9
    for _ in range(100):
        assert source.current().environment.force_https_screens is False
    assert stats == [], "no stat within the interval"
    now[0] = 102.0
    # The change is seen, and applied once a second read agrees.
    assert source.current().environment.force_https_screens is False
    assert len(stats) == 1, "one stat when due"
    now[0] = 102.0 + STABLE_FOR - 0.01
    assert source.current().environment.force_https_screens is False
    assert len(stats) == 1, "nothing within the stability window"
    now[0] = 102.0 + STABLE_FOR
    assert source.current().environment.force_https_screens is True
    assert len(stats) == 2
    source.current()
    assert len(stats) == 2


def test_two_apps_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("[environment]\n")
    shop = reloading_app(path)
    blog = reloading_app(path, ENFORCE_HTTPS_APPLICATION="blog")
    write(path, "[environment]\n[applications.blog]\nforce_https_screens = true\n")
    assert (status(shop), status(blog)) == (200, 301)
    write(path, FORCED)
    assert (status(shop), status(blog)) == (301, 301)


def test_policies_are_recomputed_only_when_settings_change(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OPEN)
    app = reloading_app(path)
    state = app.extensions["enforce_https"]
    status(app)
    first = state.snapshot()
    status(app)
    assert state.snapshot() is first, "an unchanged file keeps the snapshot"
    write(path, FORCED)
    status(app)
    assert state.snapshot() is not first


def test_swap_is_atomic_under_concurrent_requests(tmp_path: Path) -> None:
    # Version A exempts /page while forcing screens; version B forces
    # nothing. /page is 200 under both: a 301 there would be half of A.
    a = FORCED + 'exempt_paths = ["/page"]\n'
    b = "[environment]\n"
    path = tmp_path / "settings.toml"
    path.write_text(a)
    app = reloading_app(path)
    pages: list[int] = []
    homes: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        client = app.test_client()
        while not stop.is_set():
            pages.append(client.get("/page").status_code)
            homes.append(client.get("/").status_code)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(30):
            write(path, (a, b, "[environment\n")[i % 3])
            # Let some requests see each version before the next write.
            seen = len(homes) + 3
            while len(homes) < seen and all(t.is_alive() for t in threads):
                stop.wait(0.001)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert set(pages) == {200}
    assert set(homes) == {200, 301}, "both versions were served"


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(True, id="same-content"),
        pytest.param(False, id="new-content"),
    ],
)
def test_restored_file_is_ok_again(tmp_path: Path, same: bool) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    source = FileSource(path, 0)
    applied: list[list[str]] = []
    source.applied.append(lambda settings, changes: applied.append(changes))
    path.unlink()
    source.current()
    assert "the file is gone" in source.status().state
    write(path, FORCED if same else OPEN)
    assert source.current().environment.force_https_screens is same
    assert source.status().state == "ok"
    assert applied == [
        [] if same else ["environment.force_https_screens: true -> false"]
    ]


def test_bad_version_gone_then_back_is_reported_again(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    source = FileSource(path, 0)
    errors: list[str] = []
    source.rejected.append(lambda error: errors.append(error.problem))
    bad = "[environment]\nhsts = 1\n"
    write(path, bad)
    source.current()
    path.unlink()
    source.current()
    write(path, bad)
    source.current()
    source.current()
    assert errors == [
        "expected true or false, got 1",
        "the file is gone",
        "expected true or false, got 1",
    ]
    assert "got 1" in source.status().state


# -- any failure is a rejected version, and retried ------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(DEEP_TOML, id="deep-toml"),
        pytest.param(LONG_INT_TOML, id="long-int-toml"),
    ],
)
def test_parse_crash_is_rejected_and_retried_not_skipped(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    app = reloading_app(path)
    source = app.extensions["enforce_https"].source
    errors: list[SettingsError] = []
    source.rejected.append(errors.append)
    write(path, data)
    # Old enough that an unchanged stat would count as settled.
    os.utime(path, (1_000_000_000, 1_000_000_000))
    for _ in range(3):
        assert status(app) == 301, "last known good, never a 500"
        assert "stale" in source.status().state
    assert len(errors) == 1
    assert str(path) in str(errors[0])
    write(path, OPEN)
    assert status(app) == 200
    assert source.status().state == "ok"


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        pytest.param("a\nWARNING forged", '"a\\nWARNING forged"', id="newline"),
        pytest.param("a\x1b[31mred", '"a\\u001b[31mred"', id="escape"),
    ],
)
def test_unknown_key_is_escaped_in_errors_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, key: str, shown: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"environment": {}}))
    app = reloading_app(path)
    write(path, json.dumps({"environment": {key: True}}))
    with caplog.at_level(logging.ERROR, logger="flask_enforce_https"):
        status(app)
    [record] = caplog.records
    message = record.getMessage()
    assert "\n" not in message
    assert "\x1b" not in message
    assert f"environment.{shown}: unknown setting" in message
    with pytest.raises(SettingsError) as info:
        create_app(str(path))
    assert "\n" not in str(info.value)
    assert "\x1b" not in str(info.value)


def test_application_name_is_escaped_in_the_reload_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"environment": {}}))
    app = reloading_app(path)
    name = "x\nERROR forged line"
    write(path, json.dumps({"applications": {name: {"secure_cookies": True}}}))
    with caplog.at_level(logging.INFO, logger="flask_enforce_https"):
        status(app)
    [record] = caplog.records
    assert "\n" not in record.getMessage()
    assert 'applications."x\\nERROR forged line".secure_cookies' in record.getMessage()


# -- only regular files are read --------------------------------------------------


def _create_app_within(seconds: float, settings: str) -> BaseException | None:
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            create_app(settings)
        except BaseException as e:  # reported to the test
            outcome.append(e)
        else:
            outcome.append(None)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading the settings hung"
    return outcome[0]


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    os.mkfifo(path)
    error = _create_app_within(5, str(path))
    assert isinstance(error, SettingsError)
    assert error.source == str(path)
    assert "FIFO" in error.problem


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        pytest.param("/dev/zero", "a device", id="dev-zero"),
        pytest.param(".", "a directory", id="directory"),
    ],
)
def test_only_regular_files_are_read(tmp_path: Path, target: str, kind: str) -> None:
    path = tmp_path / "settings.toml"
    path.symlink_to(tmp_path if target == "." else target)
    error = _create_app_within(5, str(path))
    assert isinstance(error, SettingsError)
    assert kind in error.problem


def test_a_fifo_in_place_of_a_running_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    source = FileSource(path, 0)
    path.unlink()
    os.mkfifo(path)
    source.current()  # returns: the FIFO is not read
    assert "FIFO" in source.status().state
    assert source.current().environment.force_https_screens is True


# -- a version is applied only once it is stable -----------------------------------

WHOLE = FORCED + 'exempt_paths = ["/healthz"]\n'
#: A prefix of WHOLE cut at a line boundary: valid, and looser.
PREFIX = "[environment]\n"


def test_a_half_written_file_is_never_applied(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(OPEN)
    now = [100.0]
    source = FileSource(path, 1, clock=lambda: now[0], stable_for=0.3)
    applied: list[Settings] = []
    source.applied.append(lambda settings, changes: applied.append(settings))
    with path.open("w") as f:  # in place, as `cat > file` or an editor would
        f.write(PREFIX)
        f.flush()
        now[0] = 101.0
        source.current()  # the prefix is seen: it waits for a second read
        assert applied == []
        f.write(WHOLE[len(PREFIX) :])
    now[0] = 101.3
    source.current()  # it changed meanwhile: the whole file waits its turn
    assert applied == []
    now[0] = 101.59
    source.current()
    assert applied == [], "nothing is read within the window"
    now[0] = 101.6
    assert source.current().environment.exempt_paths == ("/healthz",)
    assert [s.environment.exempt_paths for s in applied] == [("/healthz",)]
    assert source.status().state == "ok"


def test_a_bad_version_is_rejected_only_once_stable(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(FORCED)
    now = [100.0]
    source = FileSource(path, 1, clock=lambda: now[0], stable_for=0.3)
    errors: list[SettingsError] = []
    source.rejected.append(errors.append)
    path.write_text("[environment]\nforce_https_screens = ")  # half-written
    now[0] = 101.0
    source.current()
    path.write_text(OPEN)
    now[0] = 101.3
    source.current()
    now[0] = 101.6
    assert source.current().environment.force_https_screens is False
    assert errors == [], "the half-written version was never reported"


def test_start_up_waits_for_a_file_being_written(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    with path.open("w") as f:
        f.write(PREFIX)
        f.flush()

        def finish() -> None:
            f.write(WHOLE[len(PREFIX) :])
            f.flush()

        timer = threading.Timer(0.1, finish)
        timer.start()
        try:
            source = FileSource(path, 2, stable_for=0.3)
        finally:
            timer.join()
    assert source.current().environment.exempt_paths == ("/healthz",)
