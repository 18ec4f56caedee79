"""Staff see every tenant's invoices, filtered by tenant, period and status, and can change
none of them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.staff import staff_login
from wasla.tenants.context import no_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = get_user_model().objects.create_user(
        "finance", password="x", is_staff=True, is_superuser=True
    )
    staff_login(client, staff)
    return client


def test_staff_filter_invoices_and_cannot_change_them(staff_client):
    a, b = make_invoiceable_tenant(), make_invoiceable_tenant()
    for tenant in (a, b):
        paid_payment_at(tenant, riyadh(2026, 1, 9))
    invoice_a, invoice_b = run_month(a, 2026, 1), run_month(b, 2026, 1)

    with no_scope():
        everything = staff_client.get("/admin/invoicing/invoice/?year=2026&month=1&status=issued")
        only_a = staff_client.get(f"/admin/invoicing/invoice/?tenant__id__exact={a.pk}")
        page = staff_client.get(f"/admin/invoicing/invoice/{invoice_a.pk}/change/")
        posted = staff_client.post(f"/admin/invoicing/invoice/{invoice_a.pk}/change/", {})
        deleted = staff_client.get(f"/admin/invoicing/invoice/{invoice_a.pk}/delete/")

    assert everything.status_code == 200
    assert invoice_a.display_number in everything.text
    assert invoice_b.display_number in everything.text
    assert invoice_a.display_number in only_a.text
    assert invoice_b.display_number not in only_a.text
    assert page.status_code == 200
    assert "Wasla payment fees" in page.text
    assert 'name="_save"' not in page.text
    assert posted.status_code == 403
    assert deleted.status_code == 403
