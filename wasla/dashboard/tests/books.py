"""A small book of payments, two tenants and two currencies, whose every aggregate the tests
compute by hand (see `build_book`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from testsupport.factories import make_attempt, make_order, make_tenant
from testsupport.payments import gateway, paid_payment, refunded
from wasla.invoicing.models import Invoice
from wasla.payments.models import PaymentAttempt, WebhookEvent
from wasla.tenants.models import Tenant

D = Decimal


@dataclass
class Book:
    nakheel: Tenant
    souq: Tenant
    paid_100: PaymentAttempt
    paid_50: PaymentAttempt
    failed_30: PaymentAttempt
    paid_kwd: PaymentAttempt
    refunded_200: PaymentAttempt


def build_book() -> Book:
    """Nakheel: 100.00 and 50.00 SAR paid, 30.00 SAR failed, 10.500 KWD paid.
    Souq: 200.00 SAR paid then refunded in full (its 1.00 fee reversed).
    Invoices: Nakheel SAR issued and 5 days overdue (2.30 due); Souq KWD paid (1.150).
    Webhooks: two received today for Nakheel (one processed, one still waiting), one failed."""
    nakheel = make_tenant("nakheel", name="Nakheel Dates")
    souq = make_tenant("souq", name="Souq Jeddah")
    paid_100 = paid_payment(nakheel, "100.00")
    paid_50 = paid_payment(nakheel, "50.00")
    failed_30 = make_attempt(
        gateway(nakheel), make_order(nakheel, "30.00"), status=PaymentAttempt.Status.FAILED
    )
    paid_kwd = paid_payment(nakheel, "10.500", currency="KWD")
    refunded_200 = paid_payment(souq, "200.00")
    refunded(refunded_200, "200.00")
    refunded_200.refresh_from_db()
    now = timezone.now()
    today = timezone.localdate()
    due = Invoice.objects.create(
        tenant=nakheel,
        currency="SAR",
        year=today.year,
        month=today.month,
        total_operations=2,
        subtotal=D("2.00"),
        vat_total=D("0.30"),
        total=D("2.30"),
        amount_due=D("2.30"),
    )
    paid = Invoice.objects.create(
        tenant=souq,
        currency="KWD",
        year=today.year,
        month=today.month,
        subtotal=D("1.000"),
        vat_total=D("0.150"),
        total=D("1.150"),
        amount_due=D("1.150"),
    )
    # Born drafts (a database rule), then issued as the monthly run would.
    _issue(due, number=900001, due_date=today - dt.timedelta(days=5))
    _issue(paid, number=900002, due_date=today + dt.timedelta(days=10))
    Invoice.objects.filter(pk=paid.pk).update(
        status=Invoice.Status.PAID, amount_paid=D("1.150"), amount_due=D("0.000"), paid_at=now
    )
    config = gateway(nakheel)
    for n, status in enumerate(
        [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED]
    ):
        WebhookEvent.objects.create(
            tenant=nakheel,
            gateway_config=config,
            provider=config.provider,
            event_id=f"evt_{n}",
            body="{}",
            signature_valid=True,
            status=status,
        )
    WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).update(
        received_at=now - dt.timedelta(hours=2)
    )
    return Book(nakheel, souq, paid_100, paid_50, failed_30, paid_kwd, refunded_200)


def _issue(invoice: Invoice, *, number: int, due_date: dt.date) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.Status.ISSUED,
        buyer_snapshot={"name": "buyer"},
        seller_snapshot={"name": "Wasla"},
        number=number,
        issued_at=timezone.now(),
        due_date=due_date,
    )
