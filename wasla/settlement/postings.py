"""Wasla's fee in the books: what a settlement and its adjustments post through `ledger_post`.

- a payment's fee: Dr Unbilled / Cr Income (entry type `fee`), nothing for a zero fee;
- a partial refund before invoicing that gives part of the fee back: Dr Income / Cr Unbilled
  (`adjustment`);
- a full refund before invoicing: the exact reversal of the fee posting and of every reduction
  posted since (`reversal`), so the settlement's income and unbilled fee end at zero.
Each posting has an idempotency key derived from the settlement or adjustment, so a replay finds
the posting made first. All run inside the caller's transaction (the confirmation, the refund).
"""

from __future__ import annotations

from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post, ledger_reverse
from wasla.tenants.models import Tenant

from .models import SettlementAdjustment, SettlementRecord


def _tenant_slug(tenant_id: int) -> str:
    """Account codes are named after the tenant's slug."""
    return Tenant.objects.values_list("slug", flat=True).get(pk=tenant_id)


def settlement_reference(settlement_id: int) -> str:
    """The ledger `reference_id` of every posting about one settlement."""
    return f"settlement:{settlement_id}"


def settlement_post_fee(
    *, settlement: SettlementRecord, slug: str | None = None
) -> LedgerTransaction | None:
    """Payment confirmed: Dr Unbilled / Cr Income for Wasla's fee (nothing for a zero fee).
    `slug` is the tenant's, when the caller read it already (read here otherwise)."""
    fee, currency = settlement.wasla_fee, settlement.currency
    if fee == 0:
        return None
    if slug is None:
        slug = _tenant_slug(settlement.tenant_id)
    return ledger_post(
        tenant_id=settlement.tenant_id,
        entry_type=LedgerTransaction.EntryType.FEE,
        reference_id=settlement_reference(settlement.pk),
        idempotency_key=f"fee:{settlement.pk}",
        lines=[
            PostingLine.dr(AccountRole.UNBILLED, slug, fee, currency),
            PostingLine.cr(AccountRole.FEE_INCOME, slug, fee, currency),
        ],
    )


def settlement_post_fee_reduction(*, adjustment: SettlementAdjustment) -> LedgerTransaction | None:
    """Partial refund before invoicing: Dr Income / Cr Unbilled by the fee given back."""
    amount = -adjustment.fee_delta
    if amount == 0:
        return None
    settlement = adjustment.settlement
    slug = _tenant_slug(settlement.tenant_id)
    return ledger_post(
        tenant_id=settlement.tenant_id,
        entry_type=LedgerTransaction.EntryType.ADJUSTMENT,
        reference_id=settlement_reference(settlement.pk),
        idempotency_key=f"fee-reduction:{adjustment.pk}",
        lines=[
            PostingLine.dr(AccountRole.FEE_INCOME, slug, amount, settlement.currency),
            PostingLine.cr(AccountRole.UNBILLED, slug, amount, settlement.currency),
        ],
    )


def settlement_post_fee_reversal(*, settlement: SettlementRecord) -> list[LedgerTransaction]:
    """Full refund before invoicing: the exact reversal of the settlement's fee posting, and of
    each fee reduction posted since, so the settlement's income and unbilled fee end at zero.

    Runs under the caller's lock on the settlement; a replay finds nothing left to reverse.
    """
    originals = LedgerTransaction.objects.filter(
        tenant_id=settlement.tenant_id,
        reference_id=settlement_reference(settlement.pk),
        entry_type__in=[LedgerTransaction.EntryType.FEE, LedgerTransaction.EntryType.ADJUSTMENT],
        reversed_by__isnull=True,
    ).order_by("sequence")
    return [ledger_reverse(original=original) for original in originals]
