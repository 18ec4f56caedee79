"""An issued invoice or credit note prints its buyer and seller as they stood at its issue:
editing the tenant's tax profile or Wasla's seller settings later changes no issued document,
while the next document issued carries the new values."""

from __future__ import annotations

import pytest

from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import (
    TAX_PROFILE,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
    with_tax_profile,
)
from wasla.invoicing.models import CreditNote, Invoice
from wasla.invoicing.rendering import credit_note_document, invoice_document

pytestmark = pytest.mark.django_db

NEW_IBAN = "SA4420000001234567891234"  # Riyad Bank


def test_editing_the_profiles_after_issue_changes_no_issued_document(settings):
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 10))
    january = run_month(tenant, 2026, 1)
    assert january is not None
    note = issued_credit_note(january, issued_at=riyadh(2026, 2, 5))
    assert january.buyer_snapshot == TAX_PROFILE
    assert january.seller_snapshot["iban"] == settings.WASLA_SELLER["iban"]

    with_tax_profile(tenant, legal_name_en="Nakheel Renamed LLC", city="Riyadh")
    settings.WASLA_SELLER = {
        **settings.WASLA_SELLER,
        "legal_name_en": "Wasla Holding Co.",
        "iban": NEW_IBAN,
    }

    invoice = invoice_document(invoice=Invoice.objects.get(pk=january.pk))
    credit = credit_note_document(credit_note=CreditNote.objects.get(pk=note.pk))
    for document in (invoice, credit):
        assert document.buyer.legal_name_en == TAX_PROFILE["legal_name_en"]
        assert document.buyer.address.city == TAX_PROFILE["city"]
        assert document.seller.legal_name_en == "Wasla Payments Co."
    assert invoice.payment is not None
    assert invoice.payment.iban != NEW_IBAN

    paid_payment_at(tenant, riyadh(2026, 2, 10))
    february = run_month(tenant, 2026, 2)
    assert february is not None
    fresh = invoice_document(invoice=february)
    assert (fresh.buyer.legal_name_en, fresh.buyer.address.city) == (
        "Nakheel Renamed LLC",
        "Riyadh",
    )
    assert fresh.seller.legal_name_en == "Wasla Holding Co."
    assert fresh.payment is not None
    assert (fresh.payment.iban, fresh.payment.bank_name) == (NEW_IBAN, "Riyad Bank")
