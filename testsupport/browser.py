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
