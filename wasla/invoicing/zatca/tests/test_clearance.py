"""Onboarding and clearance against the ZATCA simulator over real HTTP (live server): the
command's whole onboarding, an issued invoice stamped and cleared with the merchant's XML and
PDF QR from ZATCA's cleared document, a rejection with ZATCA's messages in the admin, and 5xx
and timeouts retried with the document cleared exactly once."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import httpx
import pytest
from cryptography import x509
from django.core.management import call_command

from fatoora.certificates import certificate_issued_by
from fatoora.hashing import invoice_parse
from fatoora.qr import invoice_qr_read
from fatoora.verifying import stamp_verify
from sandbox.zatca_sim.models import ZatcaSubmission
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.staff import staff_login
from testsupport.zatca_egs import DEMO_OTP
from wasla.invoicing.models import Invoice
from wasla.invoicing.zatca.egs import certificate_from_token
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.tenants.context import no_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_url(live_server: Any, settings: Any) -> str:
    url = f"{live_server.url}/sandbox/zatca"
    settings.WASLA_ZATCA_BASE_URL = f"{url}/e-invoicing/developer-portal"
    settings.WASLA_ZATCA_TIMEOUT_SECONDS = 2.0
    return url


def control(sim_url: str, **knobs: Any) -> None:
    response = httpx.post(f"{sim_url}/_control/", json=knobs, trust_env=False)
    assert response.status_code == 200, response.text


def onboard() -> dict[str, Any]:
    out = StringIO()
    call_command("zatca_onboard", "--otp", DEMO_OTP, "--json", stdout=out)
    return dict(json.loads(out.getvalue()))


def issued_invoice(slug: str, amount: str = "100.00") -> Invoice:
    tenant = make_invoiceable_tenant(slug)
    paid_payment_at(tenant, riyadh(2026, 1, 10), amount)
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    return invoice


def test_onboarding_end_to_end_then_renewal_keeps_the_chain_head(sim_url):
    outcome = onboard()

    unit = EgsUnit.objects.get()
    assert unit.state == EgsUnit.State.ACTIVE
    assert unit.compliance_request_id
    assert unit.production_request_id
    assert outcome["renewal"] is False
    assert [step.split(" ")[0] for step in outcome["steps"]] == [
        "compliance",
        "compliance",
        "production",
        "0",
    ]
    printed = json.dumps(outcome)
    assert unit.production_secret not in printed
    assert unit.compliance_secret not in printed
    ca = x509.load_pem_x509_certificate(
        httpx.get(f"{sim_url}/_control/ca", trust_env=False).json()["certificate"].encode()
    )
    certificate = certificate_from_token(token=unit.production_token)
    assert certificate_issued_by(certificate=certificate, issuer=ca)

    issued_invoice("before-renewal")
    unit.refresh_from_db()
    head = (unit.last_icv, unit.last_hash)
    old_request = unit.production_request_id

    assert onboard()["renewal"] is True
    unit.refresh_from_db()
    assert (unit.last_icv, unit.last_hash) == head
    assert unit.production_request_id != old_request
    assert EgsUnit.objects.count() == 1

    # The next document is stamped with the renewed certificate, chains on, and ZATCA clears it.
    after = ZatcaDocument.objects.get(invoice=issued_invoice("after-renewal"))
    assert (after.status, after.icv, after.pih) == ("cleared", head[0] + 1, head[1]), after.messages
    renewed = certificate_from_token(token=unit.production_token)
    assert renewed.serial_number != certificate.serial_number
    assert certificate_issued_by(certificate=renewed, issuer=ca)


def test_an_issued_invoice_is_stamped_and_cleared_and_the_merchant_gets_zatcas_xml(
    sim_url, api, tenant
):
    from testsupport.invoicing import with_tax_profile
    from wasla.invoicing.zatca.selectors import document_qr_payload

    onboard()
    with_tax_profile(tenant)
    paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None

    document = ZatcaDocument.objects.get(invoice=invoice)
    assert (document.status, document.icv, document.attempts) == ("cleared", 1, 1)
    answer = api.get(f"/api/v1/invoices/{invoice.pk}/xml/")
    assert answer.status_code == 200
    assert answer.content == bytes(document.cleared_xml)
    cleared = invoice_parse(xml=answer.content)
    assert tuple(stamp_verify(invoice=cleared)) == ()
    ca = x509.load_pem_x509_certificate(
        httpx.get(f"{sim_url}/_control/ca", trust_env=False).json()["certificate"].encode()
    )
    unit = EgsUnit.objects.get()
    assert certificate_issued_by(
        certificate=certificate_from_token(token=unit.production_token), issuer=ca
    )
    # What the PDF prints (rendering._qr): the cleared document's QR.
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert document_qr_payload(issued=fresh) == invoice_qr_read(invoice=cleared)
    assert ZatcaSubmission.objects.filter(uuid=str(document.uuid)).count() == 1


def test_a_rejection_keeps_zatcas_messages_and_shows_in_the_admin(sim_url, client):
    from django.contrib.auth import get_user_model

    onboard()
    control(sim_url, clearance="reject")
    invoice = issued_invoice("rejected")

    document = ZatcaDocument.objects.get(invoice=invoice)
    assert document.status == "rejected"
    assert document.cleared_xml is None
    assert any(m["type"] == "ERROR" for m in document.messages)

    staff = get_user_model().objects.create_user(
        "zatca-staff", password="x", is_staff=True, is_superuser=True
    )
    staff_login(client, staff)  # with the second factor the admin asks of staff
    client.cookies["wasla_language"] = "en"  # the admin speaks Arabic unless asked otherwise
    with no_scope():
        page = client.get("/admin/zatca/zatcadocument/?status__exact=rejected")
        detail = client.get(f"/admin/zatca/zatcadocument/{document.pk}/change/")
    assert page.status_code == 200
    assert invoice.display_number in page.content.decode()
    assert "1 rejected" in page.content.decode()
    assert document.messages[-1]["code"] in detail.content.decode()
    assert client.get(f"/admin/zatca/zatcadocument/{document.pk}/delete/").status_code == 403


@pytest.mark.parametrize("fault", ["error_500", "timeout"])
def test_unavailable_zatca_is_retried_and_the_document_cleared_once(sim_url, settings, fault):
    settings.WASLA_ZATCA_RETRY_SECONDS = 0.01
    settings.WASLA_ZATCA_MAX_RETRIES = 3
    onboard()
    control(sim_url, api=fault, api_fail_count=2, timeout_seconds=3)
    invoice = issued_invoice(f"retried-{fault}")

    document = ZatcaDocument.objects.get(invoice=invoice)
    assert document.status == "cleared"
    assert document.attempts == 3
    assert ZatcaSubmission.objects.filter(uuid=str(document.uuid)).count() == 1
