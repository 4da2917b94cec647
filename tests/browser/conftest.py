"""Pages tested in a real browser: headless Chromium (Debian's `chromium` package)
driven by Playwright for Python against a live portal on the test database.

Every page is photographed at a desktop and a phone width under build/screens/, and
checked not to scroll sideways at either width."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

# A tenant connected to a fresh emulator org (as in the sync tests), for pages that
# show or act on Salesforce.
from tests.sync.conftest import sf  # noqa: F401

SCREENS = Path(__file__).resolve().parents[2] / "build" / "screens"
WIDTHS = {"desktop": 1366, "phone": 390}

# Playwright's sync API runs an event loop in the test's thread; the test body's own
# database calls (factories, assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed: apt-get install -y chromium"
        if os.environ.get("BROWSER_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # The emulator serves its consent and record pages over HTTPS with a CA only the
    # tests know; the browser trusts it as the portal's server does.
    context = browser.new_context(
        viewport={"width": WIDTHS["desktop"], "height": 900}, ignore_https_errors=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    # What the browser's console said in error, for `page_check`.
    errors: list[str] = []
    page.on("console", lambda m: _console_error(errors, m))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def _console_error(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        errors.append(message.text)


def sign_in(page: Page, live_url: str, user: User) -> None:
    """Sign `user` in by giving the browser a session made by Django's test client (the
    login form itself is walked once, in the ops test)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_url, "httpOnly": True}]
    )


def screens(page: Page, name: str) -> None:
    """Photograph the page at each width, and fail when it scrolls sideways."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px at {label} width"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def page_check(page: Page, name: str) -> None:
    """A tenant page is done when it reads well at both widths: photographed, no
    sideways scroll, no console error, and axe-core finds nothing serious."""
    screens(page, name)
    assert page.console_errors == [], f"{name}: console errors {page.console_errors}"  # type: ignore[attr-defined]
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        violations = accessibility_violations(page)
        assert violations == [], f"{name} at {label} width: {violations}"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
