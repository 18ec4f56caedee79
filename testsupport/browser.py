"""Pages in real headless Chromium (Debian's build, driven by Playwright), with screenshots
saved under var/screenshots/ for a person to look at."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_browser(steps: Callable[[Any], None]) -> None:
    """Run `steps(page)` in a fresh Chromium page. Playwright's sync API runs in its own
    thread: its event loop must not share a thread with the Django ORM calls of the test."""
    from playwright.sync_api import sync_playwright

    def run() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                steps(browser.new_context(viewport={"width": 1000, "height": 800}).new_page())
            finally:
                browser.close()

    SHOTS.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def axe_serious(page: Any) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page as shown
    (axe-playwright-python injects the axe-core build it ships); each as "rule: target"."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def set_language(page: Any, base_url: str, language: str) -> None:
    """Pick the language as the switch in the page header would (its cookie)."""
    page.context.add_cookies([{"name": "wasla_language", "value": language, "url": base_url}])
