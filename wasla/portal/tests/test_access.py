"""Who may open what in the portal: anonymous → sign-in page; a login of no store → 403 page;
another tenant's payment, settlement month or invoice → 404 (row-level security finds
nothing); a viewer's refund POST → 403 page and nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.billing import issued_invoice
from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import make_invoiceable_tenant, riyadh
from testsupport.payments import paid_payment
from testsupport.portal import member_client
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.tenants.models import TenantMember

pytestmark = pytest.mark.django_db

Role = TenantMember.Role


def test_anonymous_goes_to_sign_in_and_comes_back(tenant):
    answer = Client().get("/merchant/payments/?status=paid")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/merchant/login/?next=")
    assert answer["Location"] == "/merchant/login/?next=/merchant/payments/%3Fstatus%3Dpaid"


def test_a_login_of_no_store_gets_the_403_page():
    client = Client()
    client.force_login(get_user_model().objects.create_user("drifter", password="x"))
    answer = client.get("/merchant/")
    assert answer.status_code == 403
    assert "portal/forbidden.html" in [t.name for t in answer.templates]


def test_an_inactive_store_gets_the_403_page(tenant):
    client = member_client(tenant)
    tenant.is_active = False
    tenant.save()
    assert client.get("/merchant/").status_code == 403


def test_another_tenants_documents_are_not_found(tenant):
    other = make_invoiceable_tenant()
    payment = paid_payment(other)
    invoice = issued_invoice(other)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 3))
    client = member_client(tenant, Role.OWNER)
    for url in (
        f"/merchant/payments/{payment.id}/",
        f"/merchant/invoices/{invoice.pk}/",
        f"/merchant/invoices/{invoice.pk}/pdf/",
        f"/merchant/credit-notes/{note.pk}/",
        f"/merchant/credit-notes/{note.pk}/pdf/",
    ):
        assert client.get(url).status_code == 404, url
    refund = client.post(
        f"/merchant/payments/{payment.id}/refund/", {"amount": "1.00", "reason": "x"}
    )
    assert refund.status_code == 404
    # Their settlements do not show in our month either.
    month = client.get(f"/merchant/settlements/{payment.paid_at.year}/{payment.paid_at.month}/")
    assert month.status_code == 200
    assert payment.order.reference not in month.content.decode()
    assert not RefundRecord.objects.exists()


def test_an_unknown_month_or_id_is_not_found(tenant):
    client = member_client(tenant)
    assert client.get("/merchant/settlements/2026/13/").status_code == 404
    assert client.get("/merchant/settlements/1999/1/").status_code == 404
    assert client.get("/merchant/invoices/999999/").status_code == 404
    assert client.get("/merchant/payments/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_viewer_sees_no_refund_form_and_a_refund_post_changes_nothing(tenant):
    payment = paid_payment(tenant)
    viewer = member_client(tenant, Role.VIEWER)
    page = viewer.get(f"/merchant/payments/{payment.id}/")
    assert page.status_code == 200
    assert b"refund-form" not in page.content
    for url in (
        f"/merchant/payments/{payment.id}/refund/",
        f"/merchant/payments/{payment.id}/refund/confirm/",
    ):
        answer = viewer.post(url, {"amount": "10.00", "reason": "try", "token": "x"})
        assert answer.status_code == 403
        assert "portal/forbidden.html" in [t.name for t in answer.templates]
    assert not RefundRecord.objects.exists()
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("paid", Decimal("0"))


@pytest.mark.parametrize("role", [Role.OWNER, Role.FINANCE])
def test_owner_and_finance_see_the_refund_form(tenant, role):
    payment = paid_payment(tenant)
    page = member_client(tenant, role).get(f"/merchant/payments/{payment.id}/")
    assert b'id="refund-form"' in page.content


def test_every_role_reads_the_money_pages(tenant):
    payment = paid_payment(tenant)
    for role in (Role.OWNER, Role.FINANCE, Role.VIEWER):
        client = member_client(tenant, role)
        for url in (
            "/merchant/",
            "/merchant/payments/",
            "/merchant/settlements/",
            "/merchant/invoices/",
            f"/merchant/payments/{payment.id}/",
        ):
            assert client.get(url).status_code == 200, (role, url)
    assert PaymentAttempt.objects.count() == 1
