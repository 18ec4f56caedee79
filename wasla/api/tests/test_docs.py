"""The API documentation at /api/docs/: Swagger UI served from our own static files (no CDN),
reading the schema at /api/schema/, open to anyone (the schema is public)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from django.test import Client

from testsupport.browser import SHOTS, in_browser

ATTRIBUTE_URLS = re.compile(r'(?:src|href)="([^"]+)"')


def _docs_html() -> str:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.django_db
def test_docs_reference_only_local_static_files():
    html = _docs_html()
    urls = ATTRIBUTE_URLS.findall(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    assert all(url.startswith("/static/drf_spectacular_sidecar/") for url in urls), urls
    assert not re.search(r"https?://|//cdn|unpkg|jsdelivr", html)
    assert 'url: "/api/schema/"' in html


@pytest.mark.django_db(transaction=True)
def test_docs_static_files_are_served(live_server):
    for url in ATTRIBUTE_URLS.findall(_docs_html()):
        with urllib.request.urlopen(live_server.url + url, timeout=10) as response:
            assert response.status == 200, url
            assert len(response.read()) > 500, url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_in_chromium(live_server):
    def steps(page) -> None:
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title")
        page.wait_for_selector("text=/api/v1/refunds/")
        assert "Wasla Payments merchant API" in page.inner_text(".swagger-ui .info .title")
        page.click("text=/api/v1/payments/ >> nth=0")
        page.wait_for_selector("text=created_after")
        page.screenshot(path=SHOTS / "api-docs.png", full_page=False)
        assert failed == []

    in_browser(steps)
