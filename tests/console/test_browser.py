"""The console in a real browser: Chromium, over real HTTPS, against the
demo (``python -m example_app``) and its console at ``/_https/``.

An administrator forces HTTPS for the storefront's screens from its
application page, reviews and applies the change with a reason, sees a
screen over plain HTTP redirected to HTTPS, finds the change in History and
reverts it: with the mouse, and again with the keyboard only. axe-core finds
no serious or critical violation on any page. Pages with no script: every
form works as HTML, which the Content-Security-Policy enforces anyway.

With ``CONSOLE_SCREENSHOTS`` set to a folder (``make screenshots``), the
tests also save there the pages the documentation shows.
"""

from __future__ import annotations

import re
import time
import typing as t

import pytest
from conftest import Reply
from test_demo import RELOAD_TIMEOUT, Demo

from .browsers import screenshot_for_docs, serious_violations, tab_to

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PREFIX = "/_https"
APPLICATION = f"{PREFIX}/applications/storefront"
SCREENS = "Force HTTPS for screens"


def home_over_http(demo: Demo) -> Reply:
    """The storefront's home page, a screen, over plain HTTP."""
    return demo.request("GET", "/")


def wait_for_home(demo: Demo, status: int) -> Reply:
    """Ask for the home page over plain HTTP until it answers ``status``
    (the demo reloads its settings every 0.2 s)."""
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while True:
        reply = home_over_http(demo)
        if reply.status == status or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)


def revision_of(page: Page, reason: str) -> int:
    """The number of the History page's revision recorded with ``reason``."""
    section = page.locator("section").filter(has_text=reason)
    heading = section.get_by_role("heading").inner_text()
    match = re.fullmatch(r"Revision (\d+)", heading)
    assert match, heading
    return int(match.group(1))


def test_force_https_for_screens_and_revert_it(
    console_page: Page, console_demo: Demo
) -> None:
    page = console_page
    assert home_over_http(console_demo).status == 200
    page.goto(f"{PREFIX}/")
    screenshot_for_docs(page, "overview")
    page.get_by_role("link", name="Applications").click()
    page.wait_for_url(f"**{PREFIX}/applications")
    page.get_by_role("link", name="storefront").click()
    page.wait_for_url(f"**{APPLICATION}")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Application storefront"
    )
    page.get_by_label(SCREENS).check()
    page.get_by_role("button", name="Review changes").click()
    page.get_by_role("heading", name="Review changes: storefront").wait_for()
    change = page.get_by_role("row", name=re.compile("storefront.force_https_screens"))
    assert change.get_by_role("cell").all_inner_texts() == ["unset", "true"]
    reason = "the storefront's screens over HTTPS only (mouse)"
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*\?applied=\d+$"))
    assert page.get_by_role("status").inner_text().startswith("Applied as revision")
    assert page.get_by_label(SCREENS).is_checked()

    reply = wait_for_home(console_demo, 301)
    assert reply.status == 301
    assert reply.header("Location") == f"https://127.0.0.1:{console_demo.https_port}/"

    page.get_by_role("link", name="History").click()
    page.wait_for_url(f"**{PREFIX}/history")
    number = revision_of(page, reason)
    recorded = page.locator("section").filter(has_text=reason).inner_text()
    assert f"by admin (console): {reason}" in recorded
    before = page.locator("section", has=page.locator(f"#revision-{number - 1}"))
    before.get_by_label("Reason").fill("back to HTTP for the screens (mouse)")
    before.get_by_role("button", name=f"Revert to revision {number - 1}").click()
    page.wait_for_url(re.compile(r".*\?reverted=\d+$"))
    assert page.get_by_role("status").inner_text() == (
        f"Reverted as revision {number + 1}."
    )
    screenshot_for_docs(page, "history")
    assert wait_for_home(console_demo, 200).status == 200


def test_the_same_with_the_keyboard_only(
    console_page: Page, console_demo: Demo
) -> None:
    page = console_page
    page.goto(f"{PREFIX}/")
    tab_to(page, page.get_by_role("link", name="Applications"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{PREFIX}/applications")
    tab_to(page, page.get_by_role("link", name="storefront"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{APPLICATION}")
    tab_to(page, page.get_by_label(SCREENS))
    page.keyboard.press("Space")
    assert page.get_by_label(SCREENS).is_checked()
    tab_to(page, page.get_by_role("button", name="Review changes"))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Review changes: storefront").wait_for()
    tab_to(page, page.get_by_label("Reason"))
    reason = "the storefront's screens over HTTPS only (keyboard)"
    page.keyboard.type(reason)
    tab_to(page, page.get_by_role("button", name="Apply"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*\?applied=\d+$"))
    assert wait_for_home(console_demo, 301).status == 301

    tab_to(page, page.get_by_role("link", name="History"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{PREFIX}/history")
    number = revision_of(page, reason)
    before = page.locator("section", has=page.locator(f"#revision-{number - 1}"))
    tab_to(page, before.get_by_label("Reason"))
    page.keyboard.type("back to HTTP for the screens (keyboard)")
    tab_to(page, before.get_by_role("button", name=f"Revert to revision {number - 1}"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*\?reverted=\d+$"))
    assert page.get_by_role("status").inner_text() == (
        f"Reverted as revision {number + 1}."
    )
    assert wait_for_home(console_demo, 200).status == 200


def review_hsts(page: Page) -> None:
    """Tick "Enable HSTS" on the environment's form and review it: a gated
    change."""
    page.goto(f"{PREFIX}/environment")
    screenshot_for_docs(page, "environment")
    page.get_by_label("Enable HSTS").check()
    page.get_by_role("button", name="Review changes").click()
    page.get_by_role("heading", name="Review changes: environment").wait_for()
    assert page.get_by_role("group", name="Before you apply").is_visible()
    screenshot_for_docs(page, "review")


def open_page(path: str) -> t.Callable[[Page], None]:
    def go(page: Page) -> None:
        page.goto(PREFIX + path)
        if path == "/endpoints":
            screenshot_for_docs(page, "endpoints")

    return go


@pytest.mark.parametrize(
    "visit",
    [
        pytest.param(open_page("/"), id="overview"),
        pytest.param(open_page("/environment"), id="environment"),
        pytest.param(open_page("/applications"), id="applications"),
        pytest.param(open_page("/applications/storefront"), id="application"),
        pytest.param(open_page("/endpoints"), id="endpoints"),
        pytest.param(open_page("/endpoints?kind=screen&level=tls"), id="filtered"),
        pytest.param(open_page("/explain"), id="explain"),
        pytest.param(
            open_page("/explain?url=http%3A%2F%2F127.0.0.1%2Faccount%2F"),
            id="explained",
        ),
        pytest.param(open_page("/certificates"), id="certificates"),
        pytest.param(open_page("/history"), id="history"),
        pytest.param(review_hsts, id="review-with-a-gate"),
    ],
)
def test_no_serious_accessibility_violation(
    console_page: Page, visit: t.Callable[[Page], None]
) -> None:
    visit(console_page)
    assert console_page.get_by_role("main").is_visible()
    assert serious_violations(console_page) == []
    # Nor does the page scroll sideways at 1024 pixels (WCAG 1.4.10).
    width = (
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert console_page.evaluate(width) <= 0


def test_the_accessibility_check_finds_what_it_looks_for(chromium: Browser) -> None:
    # So that an empty list above means a page passed, not a check that
    # did not run: a text field without a label is a critical violation.
    page = chromium.new_page()
    try:
        page.set_content(
            '<!doctype html><html lang="en"><title>A form</title>'
            '<main><input type="text" name="reason"></main></html>'
        )
        (found,) = serious_violations(page)
        assert found.startswith("label (critical): ")
    finally:
        page.close()
