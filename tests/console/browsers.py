"""A real browser for the console's tests: Debian's Chromium, driven by
Playwright for Python, and axe-core for accessibility.

Playwright's own browsers are never downloaded (no ``playwright install``):
the tests launch the ``chromium`` on the ``PATH`` (``apt-get install
chromium``) with the flags of :data:`CHROMIUM_ARGS`, which keep it off the
network but for the loopback servers it is pointed at. Without it, or
without the Python packages (the ``test`` extra), the tests skip with
"NOT TESTED", and fail when ``CI`` is set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import typing as t
from pathlib import Path

from test_stack import unavailable

if t.TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
#: Where a failing browser test leaves a screenshot of its page (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"
#: Set to a folder (``make screenshots``: docs/_static/console), the tests
#: save there the pages the documentation shows.
SCREENSHOTS_VARIABLE = "CONSOLE_SCREENSHOTS"
#: Chromium without the sandbox (containers, root), the GPU, or any of the
#: background requests it makes to Google's servers.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The impacts that fail the accessibility test.
FAILING_IMPACTS = frozenset({"serious", "critical"})
#: The most Tab presses to reach a control: more is a focus trap, or a
#: control out of the tab order.
MAX_TABS = 80


def chromium_path() -> str:
    """The Chromium to launch, once the packages to drive it are there;
    skip (or fail under CI) otherwise."""
    for module, package in (
        ("playwright", "playwright"),
        ("axe_playwright_python", "axe-playwright-python"),
    ):
        if importlib.util.find_spec(module) is None:
            unavailable(
                f"{package} is not installed (pip install {package}, or the"
                " 'test' extra): the console is not tested in a browser"
            )
    found = shutil.which("chromium")
    if found is None:
        unavailable(
            "chromium is not installed (apt-get install chromium): the console"
            " is not tested in a browser"
        )
    return found


def tab_to(page: Page, target: Locator) -> int:
    """Press Tab until ``target`` has the focus; return how many presses.

    :raises AssertionError: Not reached within :data:`MAX_TABS` presses.
    """
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"Tab never reached {target}")


def serious_violations(page: Page) -> list[str]:
    """The serious and critical axe-core violations of the page, one line
    each: the rule, its help, and the elements."""
    from axe_playwright_python.sync_playwright import Axe

    # After a click, the page can be there before its stylesheet: colours
    # and layout are checked as they end up.
    page.wait_for_load_state("load")
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in results.response["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


def screenshot_for_docs(page: Page, name: str) -> None:
    """Save the page as ``<name>.png`` for the documentation, when
    :data:`SCREENSHOTS_VARIABLE` names a folder."""
    folder = os.environ.get(SCREENSHOTS_VARIABLE)
    if folder:
        page.wait_for_load_state("load")
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def artifact_name(nodeid: str) -> str:
    """A file name for a test's screenshot."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_") + ".png"
