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


# Every page reports what its Content-Security-Policy refused (a `securitypolicyviolation`
# event) to the console, where Chromium also writes its own "Refused to ..." lines.
CSP_REPORTER = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.effectiveDirective + " refused " + (e.blockedURI || "inline")
    + " in " + e.documentURI + " (" + (e.sourceFile || "") + ":" + e.lineNumber + ")");
});"""


def csp_violation(text: str) -> bool:
    """Whether a console line is a CSP refusal (ours, or Chromium's own wording)."""
    return text.startswith(("CSP violation:", "Refused to")) or "Content Security Policy" in text


class CspViolations(AssertionError):
    pass


def in_browser(steps: Callable[[Any], None], *, allow_csp_violations: bool = False) -> list[str]:
    """Run `steps(page)` in a fresh Chromium page. Playwright's sync API runs in its own
    thread: its event loop must not share a thread with the Django ORM calls of the test.

    Any page of the context that breaks the site's Content-Security-Policy fails the test
    after the steps (every browser test is also a CSP test); `allow_csp_violations` returns
    them instead."""
    from playwright.sync_api import sync_playwright

    violations: list[str] = []

    def watch(page: Any) -> None:
        page.on(
            "console",
            lambda message: (
                violations.append(message.text) if csp_violation(message.text) else None
            ),
        )

    def run() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context(viewport={"width": 1000, "height": 800})
                context.add_init_script(CSP_REPORTER)
                context.on("page", watch)
                steps(context.new_page())
            finally:
                browser.close()

    SHOTS.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()
    if violations and not allow_csp_violations:
        raise CspViolations("Content-Security-Policy violations:\n" + "\n".join(violations))
    return violations


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
