"""CSV exports: the merchant's (portal) and staff's (dashboard) downloads of payments, refunds,
settlements, invoices with credit notes, and ledger entries."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.factories import (
    make_attempt,
    make_order,
    make_refund,
    make_stripe_config,
    make_tap_config,
    make_tenant,
)
from testsupport.staff import staff_client
from wasla.common.listing import ListFilters
from wasla.invoicing.models import CreditNote, Invoice
from wasla.ledger.models import LedgerAccount, LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.reporting.csv_stream import BOM, cell_text
from wasla.reporting.exports import DATASETS, dataset_chunks
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import no_scope, tenant_context
from wasla.tenants.models import PlatformAccessLog, TenantMember

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
ARABIC = "رُفضت البطاقة من المصدر"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


def _created(obj, when: str) -> None:
    type(obj).objects.filter(pk=obj.pk).update(created_at=_at(when))


def _member(tenant, role: str = TenantMember.Role.VIEWER) -> Client:
    user = get_user_model().objects.create_user(f"{tenant.slug}-{role}", password="x" * 12)
    TenantMember.objects.create(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def _staff() -> Client:
    user = get_user_model().objects.create_user("staff", password="x" * 12, is_staff=True)
    return staff_client(user)


def _settle(attempt: PaymentAttempt) -> SettlementRecord:
    return SettlementRecord.objects.create(
        tenant_id=attempt.tenant_id,
        order=attempt.order,
        payment_attempt=attempt,
        gross_amount=attempt.amount,
        wasla_fee=Decimal("1.00"),
        net_amount=attempt.amount - Decimal("1.00"),
    )


def _issue(document: Invoice | CreditNote, *, number: int, at: str) -> None:
    """Issued as the invoicing service leaves it (rows are born drafts)."""
    fields = {"status": "issued", "number": number, "issued_at": _at(at)}
    fields["buyer_snapshot"] = fields["seller_snapshot"] = {}
    if isinstance(document, Invoice):
        fields["due_date"] = _at(at).date()
    type(document).objects.filter(pk=document.pk).update(**fields)


def _fee_posting(tenant, reference: str) -> LedgerTransaction:
    lines = [
        PostingLine(
            code=f"Assets:Merchants:{tenant.slug}:Unbilled",
            account_type=LedgerAccount.Type.ASSET,
            currency="SAR",
            debit=Decimal("1.00"),
        ),
        PostingLine(
            code=f"Income:Fees:{tenant.slug}",
            account_type=LedgerAccount.Type.INCOME,
            currency="SAR",
            credit=Decimal("1.00"),
        ),
    ]
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.FEE,
        reference_id=reference,
        idempotency_key=f"fee:{reference}",
        lines=lines,
    )


@pytest.fixture
def shop():
    """Tenant A: a paid Tap payment (1 Dec 2026, order "=HYPERLINK()" — a formula), a failed
    Stripe one with an Arabic failure message (2 Dec), a refund, a settlement, an issued invoice
    with a credit note, a fee posting. Tenant B: a paid KWD payment and its settlement."""
    a = make_tenant("shop-a")
    tap, stripe = make_tap_config(a), make_stripe_config(a)
    paid = make_attempt(
        tap, make_order(a, "100.50", reference="=HYPERLINK(1)", status="paid"), status="paid"
    )
    failed = make_attempt(
        stripe, make_order(a, reference="A-2"), status="failed", failure_message=ARABIC
    )
    _created(paid, "2026-12-01T10:00")
    _created(failed, "2026-12-02T09:00")
    refund = make_refund(paid, "10.25", status=RefundRecord.Status.SUCCEEDED, reason="-5 خصم")
    _settle(paid)
    invoice = Invoice.objects.create(
        tenant=a,
        year=2026,
        month=11,
        subtotal=Decimal("10.00"),
        vat_total=Decimal("1.50"),
        total=Decimal("11.50"),
        amount_due=Decimal("11.50"),
    )
    _issue(invoice, number=7, at="2026-12-01T03:00")
    note = CreditNote.objects.create(
        tenant=a,
        invoice=invoice,
        reason="استرداد جزئي",
        subtotal=Decimal("1.00"),
        vat_total=Decimal("0.15"),
        total=Decimal("1.15"),
    )
    _issue(note, number=3, at="2026-12-03T03:00")
    _fee_posting(a, str(paid.pk))

    b = make_tenant("shop-b")
    other = make_attempt(
        make_tap_config(b),
        make_order(b, "2.500", currency="KWD", reference="B-1", status="paid"),
        status="paid",
    )
    _settle(other)
    _fee_posting(b, str(other.pk))
    return {"a": a, "b": b, "paid": paid, "failed": failed, "refund": refund, "other": other}


def _csv(response) -> tuple[str, list[dict[str, str]]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    return body, rows


# --- portal ------------------------------------------------------------------------------------


def test_payments_csv_content(shop):
    response = _member(shop["a"]).get("/merchant/export/payments.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="wasla-payments-')
    assert response["Content-Disposition"].endswith('.csv"')
    body, rows = _csv(response)
    assert body[1:].startswith("id,tenant,created_at,paid_at,order_reference,provider,method,")
    assert "\r\n" in body
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {str(shop["paid"].pk), str(shop["failed"].pk)}
    paid = by_id[str(shop["paid"].pk)]
    assert paid["amount"] == "100.50"
    assert paid["refunded_amount"] == "0.00"
    assert paid["currency"] == "SAR"
    assert paid["created_at"] == "2026-12-01T10:00:00+03:00"
    assert paid["order_reference"] == "'=HYPERLINK(1)"  # CSV injection guarded
    assert paid["status"] == "paid"
    assert paid["tenant"] == "shop-a"
    assert by_id[str(shop["failed"].pk)]["failure_message"] == ARABIC  # Arabic round-trips


def test_every_dataset_downloads(shop):
    client = _member(shop["a"])
    for name in DATASETS:
        response = client.get(f"/merchant/export/{name}.csv")
        assert response.status_code == 200, name
        _, rows = _csv(response)
        assert rows, name
        assert {row["tenant"] for row in rows} == {"shop-a"}, name


def test_refunds_settlements_invoices_ledger_columns(shop):
    client = _member(shop["a"], TenantMember.Role.FINANCE)
    [refund] = _csv(client.get("/merchant/export/refunds.csv"))[1]
    assert refund["amount"] == "10.25"
    assert refund["reason"] == "'-5 خصم"
    assert refund["provider"] == "tap"
    assert refund["order_reference"] == "'=HYPERLINK(1)"
    [settlement] = _csv(client.get("/merchant/export/settlements.csv"))[1]
    assert (settlement["gross_amount"], settlement["wasla_fee"]) == ("100.50", "1.00")
    assert settlement["net_amount"] == "99.50"
    invoice, note = _csv(client.get("/merchant/export/invoices.csv"))[1]
    assert (invoice["type"], note["type"]) == ("invoice", "credit_note")
    assert invoice["total"] == "11.50"
    assert invoice["amount_due"] == "11.50"
    assert note["amount_due"] == ""
    assert note["invoice_number"] == invoice["number"]
    assert note["reason"] == "استرداد جزئي"
    assert invoice["period"] == note["period"] == "2026-11"
    assert invoice["issued_at"] == "2026-12-01T03:00:00+03:00"
    debit, credit = _csv(client.get("/merchant/export/ledger.csv"))[1]
    assert (debit["debit"], debit["credit"]) == ("1.00", "0.00")
    assert credit["account"] == "Income:Fees:shop-a"
    assert credit["balance_after"] == "1.00"


def test_filters(shop):
    client = _member(shop["a"])

    def ids(query: str) -> set[str]:
        response = client.get(f"/merchant/export/payments.csv?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in _csv(response)[1]}

    paid, failed = str(shop["paid"].pk), str(shop["failed"].pk)
    assert ids("status=paid") == {paid}
    assert ids("provider=stripe") == {failed}
    assert ids("method=mada") == {paid}
    assert ids("reference=A-2") == {failed}
    assert ids("created_after=2026-12-02") == {failed}
    assert ids("created_before=2026-12-02T00:00:00%2B03:00") == {paid}
    assert ids("date_from=2026-12-01&date_to=2026-12-01") == {paid}  # both days included
    assert ids("date_from=2026-12-02&page=3&sort=-amount") == {failed}  # page params ignored
    assert ids("date_to=2026-11-30") == set()
    invoices = client.get("/merchant/export/invoices.csv?date_from=2026-12-02")
    assert [row["type"] for row in _csv(invoices)[1]] == ["credit_note"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("payments.csv?status=nonsense", "status"),
        ("payments.csv?created_after=yesterday", "created_after"),
        ("payments.csv?date_from=2026-02-30", "date_from"),
        ("payments.csv?date_to=9999-12-31", "date_to"),
        ("payments.csv?created_after=0001-01-01T00:00%2B14:00", "created_after"),
        ("payments.csv?method=bitcoin", "method"),
        ("refunds.csv?status=paid", "status"),
        ("invoices.csv?provider=tap", "provider"),
        ("ledger.csv?status=issued", "status"),
    ],
)
def test_bad_filters_are_400_on_the_page(shop, path, parameter):
    response = _member(shop["a"]).get(f"/merchant/export/{path}")
    assert response.status_code == 400
    assert parameter in response.context["form"].errors


def test_reversed_period_is_400(shop):
    client = _member(shop["a"])
    response = client.get("/merchant/export/payments.csv?date_from=2026-12-05&date_to=2026-12-01")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()


def test_unknown_dataset_is_404(shop):
    assert _member(shop["a"]).get("/merchant/export/secrets.csv").status_code == 404


def test_login_required_and_every_role_allowed(shop):
    response = Client().get("/merchant/export/payments.csv")
    assert response.status_code == 302
    assert "/merchant/login/" in response["Location"]
    for role in TenantMember.Role.values:
        client = _member(make_tenant(), role)
        assert client.get("/merchant/export/payments.csv").status_code == 200, role


def test_tenant_isolation(shop):
    """B's CSVs never have A's rows, whatever the filters, and the other way round."""
    client = _member(shop["b"])
    for name in DATASETS:
        _, rows_b = _csv(client.get(f"/merchant/export/{name}.csv"))
        assert {row["tenant"] for row in rows_b} <= {"shop-b"}, name
    _, rows = _csv(client.get("/merchant/export/payments.csv"))
    assert [(r["id"], r["amount"], r["currency"]) for r in rows] == [
        (str(shop["other"].pk), "2.500", "KWD")  # three decimals for KWD
    ]


def test_exports_page_redirects_to_the_download(shop):
    client = _member(shop["a"])
    page = client.get("/merchant/exports/")
    assert page.status_code == 200
    assert b'name="date_from"' in page.content
    response = client.get("/merchant/exports/?dataset=refunds&date_from=2026-12-01&date_to=")
    assert response.status_code == 302
    assert response["Location"] == "/merchant/export/refunds.csv?date_from=2026-12-01"
    bad = client.get("/merchant/exports/?dataset=refunds&date_from=soon")
    assert bad.status_code == 400
    assert b'role="alert"' in bad.content


# --- the stream itself --------------------------------------------------------------------------


def test_stream_enters_its_own_scope(shop):
    """Consumed with no scope at all (as the WSGI server does after the view returned), the
    stream still sees the tenant's rows: it enters `tenant_context` itself."""
    chunks = dataset_chunks(
        dataset=DATASETS["payments"],
        tenant=shop["a"],
        filters=ListFilters(),
        scope=lambda: tenant_context(shop["a"].pk),
    )
    with no_scope():
        body = b"".join(chunks).decode()
    assert str(shop["paid"].pk) in body
    assert str(shop["other"].pk) not in body


def test_a_tenant_scope_hides_other_tenants_even_without_the_filter(shop):
    """Row-level security again: asked for every tenant (tenant=None) inside A's scope, the
    stream still has A's rows only."""
    chunks = dataset_chunks(
        dataset=DATASETS["payments"],
        tenant=None,
        filters=ListFilters(),
        scope=lambda: tenant_context(shop["a"].pk),
    )
    with no_scope():
        body = b"".join(chunks).decode()
    assert str(shop["paid"].pk) in body
    assert str(shop["other"].pk) not in body


def test_cells():
    assert cell_text(None) == ""
    assert cell_text("+966 55") == "'+966 55"
    assert cell_text("@SUM(A1)") == "'@SUM(A1)"
    assert cell_text("\t=1") == "'\t=1"
    assert cell_text("plain") == "plain"
    assert cell_text(_at("2026-12-01T00:00").astimezone(ZoneInfo("UTC"))) == (
        "2026-12-01T00:00:00+03:00"
    )


def test_large_export_flushes_in_pieces():
    tenant = make_tenant()
    config = make_tap_config(tenant)
    for _ in range(5):
        make_attempt(config, failure_message="x" * 20000)
    client = _member(tenant)
    pieces = list(client.get("/merchant/export/payments.csv").streaming_content)
    assert len(pieces) >= 2
    assert all(len(piece) < 100_000 for piece in pieces)


# --- dashboard ----------------------------------------------------------------------------------


def test_staff_export_all_tenants_and_one(shop):
    client = _staff()
    before = PlatformAccessLog.objects.count()
    _, rows = _csv(client.get("/dashboard/export/payments.csv"))
    assert {row["tenant"] for row in rows} == {"shop-a", "shop-b"}
    log = PlatformAccessLog.objects.order_by("-pk").first()
    assert PlatformAccessLog.objects.count() == before + 1
    assert log.actor == "staff"
    assert "payments" in log.reason
    _, rows = _csv(client.get(f"/dashboard/export/settlements.csv?tenant={shop['b'].pk}"))
    assert [row["tenant"] for row in rows] == ["shop-b"]
    response = client.get(
        f"/dashboard/export/payments.csv?tenant={shop['a'].pk}&status=failed&date_from=2026-12-02"
        "&date_to=2026-12-02&page=2"
    )
    assert [row["id"] for row in _csv(response)[1]] == [str(shop["failed"].pk)]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("tenant=abc", "tenant"),
        ("tenant=999999", "tenant"),
        ("status=nonsense", "status"),
        ("created_before=tomorrow", "created_before"),
    ],
)
def test_staff_bad_filters_are_400_problems(shop, query, parameter):
    response = _staff().get(f"/dashboard/export/payments.csv?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert parameter in response.json()["errors"]


def test_staff_only(shop):
    response = Client().get("/dashboard/export/payments.csv")
    assert response.status_code == 302
    member = _member(shop["a"], TenantMember.Role.OWNER)
    assert member.get("/dashboard/export/payments.csv").status_code == 403


def test_exports_page_shows_a_reversed_period(shop):
    client = _member(shop["a"])
    response = client.get(
        "/merchant/exports/?dataset=payments&date_from=2026-12-05&date_to=2026-12-01"
    )
    assert response.status_code == 400
    assert b'role="alert"' in response.content


@pytest.mark.parametrize("name", list(DATASETS))
def test_fixed_query_count_per_export(name):
    """The same statements for 3 rows as for 30 (joins, no query per row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tenant = make_tenant()
    config = make_tap_config(tenant)

    def add(count: int) -> None:
        for _ in range(count):
            attempt = make_attempt(config, make_order(tenant, status="paid"), status="paid")
            make_refund(attempt, "1.00")
            _settle(attempt)
            _fee_posting(tenant, str(attempt.pk))

    def statements() -> int:
        chunks = dataset_chunks(
            dataset=DATASETS[name],
            tenant=tenant,
            filters=ListFilters(),
            scope=lambda: tenant_context(tenant.pk),
        )
        with CaptureQueriesContext(connection) as queries:
            b"".join(chunks)
        return len(queries)

    add(3)
    few = statements()
    add(27)
    assert statements() == few
