"""An issued invoice in the books, posted through `ledger_post` inside the issuing transaction:
Dr Receivable (total incl. VAT) / Cr Unbilled (the fees billed) / Cr VAT Output (the VAT).

The fees were posted to Unbilled when each payment was confirmed (net of the reductions its
refunds made), so the invoice moves exactly the fees it bills from Unbilled to Receivable.
The idempotency key is the invoice's, so a replay finds the posting made first.
"""

from __future__ import annotations

from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post
from wasla.tenants.models import Tenant

from .models import Invoice


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
