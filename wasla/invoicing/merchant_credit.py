"""The merchant's credit with Wasla, and its use by the next invoices.

A credit note on an invoice that was already paid leaves Wasla owing the merchant: a
`MerchantCredit` (SPEC §3: "otherwise the merchant's credit is applied to the next invoices").
When an invoice is issued, `merchant_credit_apply` uses the tenant's unused credit in the
invoice's currency, oldest first, up to the amount due: one `MerchantCreditUse` per credit drawn
on, in the issuing transaction. The invoice shows it as `amount_credit_applied` (not a negative
line: the supply billed is unchanged) and its amount due drops by as much.

The credit's rows are locked while their rest is read, and PostgreSQL refuses a use that would
take a credit's uses past its amount (trigger, migration 0007), so two issues can never spend
the same credit twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import ZERO, Invoice, MerchantCredit, MerchantCreditUse

_MONEY = DecimalField(max_digits=14, decimal_places=3)


def _used() -> Coalesce:
    """Per credit row: what invoices used of it so far."""
    uses = (
        MerchantCreditUse.objects.filter(credit=OuterRef("pk"))
        .order_by()
        .values("credit")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(uses, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def merchant_credit_apply(*, invoice: Invoice, up_to: Decimal, now: datetime) -> Decimal:
    """Use the tenant's unused credit in the invoice's currency, oldest first, for at most
    `up_to` on `invoice` (which exists, is being issued, and whose tenant is locked or in
    scope). Records the uses and returns their sum; writes nothing when there is no credit."""
    if up_to <= 0:
        return ZERO
    ids = list(
        MerchantCredit.objects.filter(tenant_id=invoice.tenant_id, currency=invoice.currency)
        .order_by("created_at", "pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if not ids:
        return ZERO
    rows = (
        MerchantCredit.objects.filter(pk__in=ids)
        .annotate(used=_used())
        .order_by("created_at", "pk")
        .values_list("pk", "amount", "used")
    )
    uses: list[MerchantCreditUse] = []
    applied = ZERO
    for pk, amount, used in rows:
        take = min(amount - used, up_to - applied)
        if take <= 0:
            continue
        uses.append(
            MerchantCreditUse(
                tenant_id=invoice.tenant_id,
                credit_id=pk,
                invoice=invoice,
                amount=take,
                created_at=now,
            )
        )
        applied += take
        if applied == up_to:
            break
    MerchantCreditUse.objects.bulk_create(uses)
    return applied


def merchant_credit_balance(*, tenant_id: int, currency: str) -> Decimal:
    """The credit a merchant holds with Wasla in `currency` and no invoice used yet. In the
    books it is the credit balance of its Receivable account."""
    credits = MerchantCredit.objects.filter(tenant_id=tenant_id, currency=currency)
    granted = credits.aggregate(total=Sum("amount"))["total"] or ZERO
    used = MerchantCreditUse.objects.filter(credit__in=credits).aggregate(total=Sum("amount"))
    return granted - (used["total"] or ZERO)
