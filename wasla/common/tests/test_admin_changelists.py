"""Every admin list, taken together: a fixed number of queries whatever the number of rows
(no N+1 through a foreign key or a money column), a tenant and a date filter on every
tenant-owned list, and model names that read right in both languages."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import (
    bank_transfer_at,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from testsupport.payments import gateway, refunded
from wasla.api.models import IdempotencyRecord
from wasla.invoicing.models import CollectionTry
from wasla.ledger.models import FinancialLedgerEntry
from wasla.payments.models import PaymentDispute, WebhookEvent
from wasla.storefront.models import Product
from wasla.tenants.models import TenantMember, TenantOwned
from wasla.tenants.services import api_token_create

WASLA_APPS = ("api", "invoicing", "ledger", "orders", "payments", "settlement", "storefront")
WASLA_APPS += ("tenants", "zatca")


def _registered() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _one_merchant_of_everything(n: int) -> None:
    """A merchant with a paid and partly refunded January payment, its issued invoice (paid
    by transfer) and credit note, and a row of each other tenant-owned kind the admin lists."""
    tenant = make_invoiceable_tenant()
    attempt = paid_payment_at(tenant, riyadh(2026, 1, 9), amount="120.00")
    refunded(attempt, "20.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    bank_transfer_at(invoice, riyadh(2026, 2, 3), invoice.amount_due, f"TRF-{n}")
    issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10))
    config = gateway(tenant)
    WebhookEvent.objects.create(
        tenant=tenant,
        gateway_config=config,
        provider="tap",
        event_id=f"evt_{n}",
        event_type="charge.captured",
        body='{"id": "chg"}',
        signature_valid=True,
    )
    PaymentDispute.objects.create(
        tenant=tenant,
        provider="stripe",
        provider_reference=f"dp_{secrets.token_hex(4)}",
        payment_attempt=attempt,
        amount=Decimal("120.00"),
        currency="SAR",
    )
    api_token_create(tenant=tenant, name="shop")
    user = get_user_model().objects.create_user(f"member-{secrets.token_hex(4)}")
    TenantMember.objects.create(tenant=tenant, user=user, role=TenantMember.Role.FINANCE)
    IdempotencyRecord.objects.create(
        tenant=tenant, key=f"k{n}", method="POST", path="/api/v1/payments/", fingerprint="f"
    )
    Product.objects.create(tenant=tenant, name=f"Oud {n}", price=Decimal("45.5"))


def _queries_per_changelist(client) -> dict[str, int]:
    counts = {}
    for model, _model_admin in _registered():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[model._meta.label] = len(queries)
    return counts


@pytest.mark.django_db
def test_every_changelist_makes_the_same_queries_for_2_and_20_rows(admin_client):
    admin_client.cookies["wasla_language"] = "en"
    for n in range(2):
        _one_merchant_of_everything(n)
    with_2 = _queries_per_changelist(admin_client)
    for n in range(2, 20):
        _one_merchant_of_everything(n)
    with_20 = _queries_per_changelist(admin_client)

    assert with_20 == with_2
    page = admin_client.get(reverse("admin:invoicing_invoice_changelist")).text
    assert "20 invoices" in page  # the rows were there to be listed


def _date_paths(model: type[models.Model], path: str) -> bool:
    """Whether `path` ("transaction__created_at") ends at a date or date-time field."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return isinstance(model._meta.get_field(name), models.DateField)


@pytest.mark.parametrize(
    ("model", "model_admin"),
    [pair for pair in _registered() if issubclass(pair[0], TenantOwned)],
    ids=lambda value: value._meta.label if isinstance(value, type) else "",
)
def test_every_tenant_owned_list_filters_by_tenant_and_date(model, model_admin):
    filters = [f for f in model_admin.list_filter if isinstance(f, str)]
    assert "tenant" in filters
    if any(isinstance(field, models.DateField) for field in model._meta.get_fields()):
        assert any(_date_paths(model, f) for f in filters if f != "tenant")


@pytest.mark.parametrize(
    "model",
    [m for m, _a in _registered() if m._meta.app_label in WASLA_APPS],
    ids=lambda model: model._meta.label,
)
def test_model_names_read_right_in_english_and_arabic(model):
    with translation.override("en"):
        english = str(model._meta.verbose_name_plural)
    with translation.override("ar"):
        arabic = str(model._meta.verbose_name_plural)
        app_name = str(model._meta.app_config.verbose_name)

    assert not re.search(r"[^aeiou]ys$", english), english  # "entrys", "trys"
    if model._meta.app_label not in ("api", "storefront"):  # their catalogs are not this change's
        assert re.search("[\u0600-\u06ff]", arabic), (model._meta.label, arabic)
        assert re.search("[\u0600-\u06ff]", app_name), (model._meta.label, app_name)


def test_ledger_entries_are_called_so():
    with translation.override("en"):
        assert str(FinancialLedgerEntry._meta.verbose_name_plural) == "ledger entries"
        assert str(CollectionTry._meta.verbose_name_plural) == "collection tries"
