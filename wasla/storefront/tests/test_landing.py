"""The landing page `/`: the demo stores (read through the narrow `wasla_public_stores` lookup,
as the app role, with no tenant scope) and the links to the back offices; Arabic first."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from testsupport.factories import make_tenant
from wasla.storefront.models import Product
from wasla.tenants.lookups import public_stores
from wasla.tenants.models import PlatformAccessLog

pytestmark = pytest.mark.django_db


def _store(slug: str, name: str, *, active: bool = True, selling: bool = True):
    tenant = make_tenant(slug, name=name, is_active=active)
    Product.objects.create(tenant=tenant, name="Dates", price=Decimal("10.00"), is_active=selling)
    return tenant


def test_the_landing_page_lists_the_stores_that_sell_and_links_the_back_offices():
    _store("qahwa", "Qahwa House")
    _store("nakheel", "Nakheel Dates")
    _store("closed", "Closed Shop", active=False)
    _store("empty", "Nothing On Sale", selling=False)
    make_tenant("bare", name="No Products")
    audit_rows = PlatformAccessLog.objects.count()

    assert public_stores() == [("nakheel", "Nakheel Dates"), ("qahwa", "Qahwa House")]
    client = Client()
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "المتاجر التجريبية" in html
    assert 'href="/store/nakheel/"' in html
    assert 'href="/store/qahwa/"' in html
    for hidden in ("Closed Shop", "Nothing On Sale", "No Products"):
        assert hidden not in html
    for link in ("/merchant/", "/dashboard/", "/admin/", "/api/docs/"):
        assert f'href="{link}"' in html
    assert PlatformAccessLog.objects.count() == audit_rows  # an anonymous visit writes nothing

    client.cookies["wasla_language"] = "en"
    english = client.get("/").content.decode()
    assert '<html lang="en" dir="ltr">' in english
    assert "Demo stores" in english
    assert "Merchant portal" in english


def test_the_landing_page_takes_the_same_queries_for_3_or_30_stores():
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert Client().get("/").status_code == 200
        return len(captured)

    for number in range(3):
        _store(f"store-{number}", f"Store {number}")
    few = queries()
    for number in range(3, 30):
        _store(f"store-{number}", f"Store {number}")
    many = queries()
    # The scope statement of the backend (no tenant: an anonymous page), then the lookup.
    assert few == many == 2
