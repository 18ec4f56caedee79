"""Invoicing in the books, each posted through `ledger_post` inside the caller's transaction:

- an issued invoice: Dr Receivable (total incl. VAT) / Cr Unbilled (the fees billed) / Cr VAT
  Output (the VAT);
- a payment received on it: Dr Bank (bank transfer) or Dr Stripe Clearing (card) / Cr Receivable;
- an issued credit note: Dr Fee Income (its net) / Dr VAT Output (its VAT) / Cr Receivable (its
  total). When the invoice was paid already, Receivable goes into credit: what Wasla owes the
  merchant (its `MerchantCredit`).

Merchant credit applied to a later invoice posts nothing of its own. The credit note that
created it already left Receivable in credit by that amount; the later invoice posts its whole
total to Receivable as usual, so Receivable nets to what that invoice still has due (its
`amount_due`, lowered by the credit applied). Receivable = Σ invoice amounts due - unused
merchant credit at every moment (checked by `manage.py reconcile`).

The fees were posted to Unbilled when each payment was confirmed (net of the reductions its
refunds made), so the invoice moves exactly the fees it bills from Unbilled to Receivable.
Each idempotency key is the document's or the payment's, so a replay finds the posting made
first.
"""

from __future__ import annotations

from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post
from wasla.tenants.models import Tenant

from .models import CreditNote, Invoice, InvoicePayment


def invoice_reference(invoice_id: int) -> str:
    """The ledger `reference_id` of every posting about one invoice."""
    return f"invoice:{invoice_id}"


def invoice_post_issue(*, invoice: Invoice, tenant: Tenant) -> LedgerTransaction:
    slug, currency = tenant.slug, invoice.currency
    lines = [
        PostingLine.dr(AccountRole.RECEIVABLE, slug, invoice.total, currency),
        PostingLine.cr(AccountRole.UNBILLED, slug, invoice.subtotal, currency),
    ]
    if invoice.vat_total > 0:
        lines.append(PostingLine.cr(AccountRole.VAT_OUTPUT, slug, invoice.vat_total, currency))
    return ledger_post(
        tenant_id=invoice.tenant_id,
        entry_type=LedgerTransaction.EntryType.INVOICE,
        reference_id=invoice_reference(invoice.pk),
        idempotency_key=f"invoice:{invoice.pk}",
        lines=lines,
    )


PAYMENT_ACCOUNTS = {
    InvoicePayment.Method.BANK_TRANSFER: AccountRole.BANK,
    InvoicePayment.Method.CARD: AccountRole.STRIPE_CLEARING,
}


def invoice_post_payment(*, payment: InvoicePayment, tenant: Tenant) -> LedgerTransaction:
    slug, currency = tenant.slug, payment.invoice.currency
    account = PAYMENT_ACCOUNTS[InvoicePayment.Method(payment.method)]
    return ledger_post(
        tenant_id=payment.tenant_id,
        entry_type=LedgerTransaction.EntryType.PAYMENT,
        reference_id=invoice_reference(payment.invoice_id),
        idempotency_key=f"invoice-payment:{payment.pk}",
        lines=[
            PostingLine.dr(account, slug, payment.amount, currency),
            PostingLine.cr(AccountRole.RECEIVABLE, slug, payment.amount, currency),
        ],
    )


def credit_note_post_issue(*, note: CreditNote, tenant: Tenant) -> LedgerTransaction:
    slug, currency = tenant.slug, note.currency
    lines = [PostingLine.dr(AccountRole.FEE_INCOME, slug, note.subtotal, currency)]
    if note.vat_total > 0:
        lines.append(PostingLine.dr(AccountRole.VAT_OUTPUT, slug, note.vat_total, currency))
    lines.append(PostingLine.cr(AccountRole.RECEIVABLE, slug, note.total, currency))
    return ledger_post(
        tenant_id=note.tenant_id,
        entry_type=LedgerTransaction.EntryType.CREDIT_NOTE,
        reference_id=invoice_reference(note.invoice_id),
        idempotency_key=f"credit-note:{note.pk}",
        lines=lines,
    )
