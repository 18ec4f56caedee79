"""One row of any tenant-owned model, built from its fields, so RLS tests cover every model.

A model whose required fields or constraints need more than the generic values (a CHECK
between two amounts, say) gets its few overrides in OVERRIDES, keyed by "app_label.Model"; a
model whose rows only exist through a service (ledger postings), or that has a factory in
testsupport.factories (orders, gateway configs, payment attempts), gets a builder in BUILDERS.
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from testsupport.factories import make_attempt, make_order, make_tap_config
from wasla.payments.models import PaymentGatewayConfig
from wasla.tenants.models import Tenant, TenantMember, TenantOwned

OVERRIDES: dict[str, dict[str, Any]] = {
    "settlement.SettlementRecord": {"net_amount": Decimal(0)},  # net = gross - fee
    "settlement.SettlementAdjustment": {"fee_delta": Decimal(0)},  # an adjustment reduces
    "invoicing.Invoice": {"year": 2026, "month": 1},  # a real calendar month
}


def _value(field: models.Field[Any, Any]) -> Any:
    if field.choices:
        return field.choices[0][0]
    token = secrets.token_hex(6)
    if isinstance(field, models.EmailField):
        return f"{token}@example.com"
    if isinstance(field, models.URLField):
        return f"https://example.com/{token}"
    if isinstance(field, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field, models.DecimalField):
        return Decimal(1)
    if isinstance(field, models.IntegerField | models.FloatField):
        return 1
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.BinaryField):
        return b"x"
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or 24
        return token[:limit]
    raise TypeError(f"no generic value for {field!r}: add an override in OVERRIDES")


def _ledger_posting(tenant: Tenant) -> Any:
    """Ledger rows exist only as balanced postings (a deferred trigger refuses anything else)."""
    from wasla.ledger.accounts import AccountRole
    from wasla.ledger.models import LedgerTransaction
    from wasla.ledger.services import PostingLine, ledger_post

    key = "rls-" + secrets.token_hex(6)
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.FEE,
        reference_id=key,
        idempotency_key=key,
        lines=[
            PostingLine.dr(AccountRole.UNBILLED, tenant.slug, Decimal(1), "SAR"),
            PostingLine.cr(AccountRole.FEE_INCOME, tenant.slug, Decimal(1), "SAR"),
        ],
    )


def _gateway(tenant: Tenant) -> PaymentGatewayConfig:
    """The tenant's Tap gateway: one per tenant (unique per provider and mode), so the parents
    of a row that needs two attempts share it."""
    return PaymentGatewayConfig.objects.filter(tenant=tenant).first() or make_tap_config(tenant)


def _merchant_credit_use(tenant: Tenant) -> Any:
    """A use of a credit on the invoice its credit note corrects (one invoice per month)."""
    from wasla.invoicing.models import MerchantCredit, MerchantCreditUse

    credit = build_row(MerchantCredit, tenant)
    assert isinstance(credit, MerchantCredit)
    return MerchantCreditUse.objects.create(
        tenant=tenant,
        credit=credit,
        invoice_id=credit.credit_note.invoice_id,
        amount=credit.amount,
        created_at=timezone.now(),
    )


def _zatca_document(tenant: Tenant) -> Any:
    """The ZATCA record of an invoice (exactly one of invoice and credit note, CHECK)."""
    from wasla.invoicing.models import Invoice
    from wasla.invoicing.zatca.models import ZatcaDocument

    return ZatcaDocument.objects.create(tenant=tenant, invoice=build_row(Invoice, tenant))


def _member(tenant: Tenant) -> models.Model:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=f"member-{secrets.token_hex(6)}")
    return TenantMember.objects.create(tenant=tenant, user=user, role="viewer")


BUILDERS: dict[str, Any] = {
    "tenants.TenantMember": _member,
    "zatca.ZatcaDocument": _zatca_document,
    "invoicing.MerchantCreditUse": _merchant_credit_use,
    "orders.Order": make_order,
    "payments.PaymentGatewayConfig": _gateway,
    "payments.PaymentAttempt": lambda tenant: make_attempt(_gateway(tenant)),
    "ledger.LedgerTransaction": _ledger_posting,
    "ledger.FinancialLedgerEntry": lambda tenant: _ledger_posting(tenant).entries.first(),
    "ledger.LedgerAccount": lambda tenant: _ledger_posting(tenant).entries.first().account,
}


def build_row(model: type[models.Model], tenant: Tenant) -> models.Model:
    """Create one row of `model` for `tenant`, its required tenant-owned parents too."""
    label = model._meta.label
    if label in BUILDERS:
        return BUILDERS[label](tenant)
    values: dict[str, Any] = {}
    overrides = OVERRIDES.get(label, {})
    for field in model._meta.concrete_fields:
        if field.name in overrides:
            values[field.name] = overrides[field.name]
            continue
        if isinstance(field, models.AutoField) or field.null or field.has_default():
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if getattr(field, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED:
            continue
        if isinstance(field, models.ForeignKey):
            remote = field.related_model
            assert isinstance(remote, type)
            if remote is Tenant:
                values[field.name] = tenant
            elif issubclass(remote, TenantOwned):
                values[field.name] = build_row(remote, tenant)
            else:
                raise TypeError(f"{label}.{field.name}: add an override in OVERRIDES")
            continue
        values[field.name] = _value(field)
    return model._default_manager.create(**values)
