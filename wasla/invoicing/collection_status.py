"""Where an invoice's collection by card stands, for staff (overdue) and the merchant (API), and
the signed link to the hosted page where the merchant completes a payment that needs 3-D Secure.

Overdue: issued, something still due, and the last try of the schedule settled without success.
The pay-page token is `django.core.signing`, bound to the invoice and its tenant, valid
`PAY_TOKEN_MAX_AGE`; a forged or expired one reads as None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from .models import CollectionTry, Invoice

PAY_TOKEN_SALT: Final = "wasla.invoicing.billing-pay-page"
PAY_TOKEN_MAX_AGE: Final = timedelta(days=30)
UNSUCCESSFUL: Final = (
    CollectionTry.Status.DECLINED,
    CollectionTry.Status.REQUIRES_AUTHENTICATION,
    CollectionTry.Status.FAILED,
)


def overdue_q() -> Q:
    """Invoices whose dunning schedule is exhausted without payment (a queryset filter)."""
    last = len(settings.WASLA_COLLECTION_SCHEDULE_DAYS)
    exhausted = CollectionTry.objects.filter(
        invoice=OuterRef("pk"), number__gte=max(last, 1), status__in=UNSUCCESSFUL
    )
    return Q(status=Invoice.Status.ISSUED, amount_due__gt=0) & Q(Exists(exhausted))


def pay_token_make(invoice: Invoice) -> str:
    return signing.dumps({"i": invoice.pk, "t": invoice.tenant_id}, salt=PAY_TOKEN_SALT)


def pay_token_read(token: str) -> tuple[int, int] | None:
    """(invoice id, tenant id) of a genuine, unexpired token; None otherwise."""
    try:
        data = signing.loads(token, salt=PAY_TOKEN_SALT, max_age=PAY_TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(data, dict):
        return None
    invoice_id, tenant_id = data.get("i"), data.get("t")
    if not isinstance(invoice_id, int) or not isinstance(tenant_id, int):
        return None
    return invoice_id, tenant_id


def pay_page_url(invoice: Invoice) -> str:
    path = reverse("billing-pay", args=[pay_token_make(invoice)])
    return f"{settings.WASLA_PUBLIC_BASE_URL.rstrip('/')}{path}"


@dataclass(frozen=True)
class CollectionState:
    status: str  # not_started | pending | succeeded | declined | requires_authentication
    #              | failed | overdue | paid
    tries: int
    next_try_at: datetime | None
    payment_page_url: str


def invoice_collection_state(invoice: Invoice) -> CollectionState:
    tries = sorted(invoice.collection_tries.all(), key=lambda attempt: attempt.number)
    latest = tries[-1] if tries else None
    if invoice.status == Invoice.Status.PAID:
        return CollectionState("paid", len(tries), None, "")
    if latest is None:
        return CollectionState("not_started", 0, None, "")
    last = len(settings.WASLA_COLLECTION_SCHEDULE_DAYS)
    status = latest.status
    if status in UNSUCCESSFUL and latest.number >= last:
        status = "overdue"
    url = ""
    if latest.status == CollectionTry.Status.REQUIRES_AUTHENTICATION:
        url = pay_page_url(invoice)
    return CollectionState(status, len(tries), latest.next_try_at, url)
