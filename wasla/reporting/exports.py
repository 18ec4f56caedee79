"""The CSV datasets a merchant (its own rows) or staff (every tenant's, or one) can download.

Each dataset is a list of columns — a header in English snake_case that machines can rely on,
and one extractor per column — over querysets built by the layers' selectors with a
`ListFilters`. Amounts are plain decimals with exactly their currency's decimals
(`format_amount`) next to a `currency` column; times are ISO 8601 in Riyadh time. The
`tenant` column is in every dataset so a staff export and a merchant's read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wasla.common.listing import ListFilters
from wasla.common.money import format_amount
from wasla.invoicing.models import CreditNote, Invoice
from wasla.invoicing.selectors import (
    LISTED_INVOICE_STATUSES,
    credit_note_export_list,
    invoice_export_list,
)
from wasla.ledger.selectors import ledger_entry_export_list
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.payments.selectors import payment_list, refund_list
from wasla.settlement.models import SettlementRecord
from wasla.settlement.selectors import settlement_list
from wasla.tenants.models import Tenant

from .csv_stream import cell_text, csv_chunks, csv_response, queryset_rows, stream_in_scope

QuerySets = Callable[[Tenant | None, ListFilters], Sequence[QuerySet[Any]]]


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[Any], Any]
    # An amount we format ourselves ("-5.00"): written as is, never guarded as a formula.
    amount: bool = False

    def cell(self, obj: Any) -> str:
        value = self.value(obj)
        return value if self.amount else cell_text(value)


def amount(name: str, attr: str | None = None) -> Column:
    """An amount column: the attribute `attr` (default `name`) in the row's `currency`."""
    attr = attr or name
    return Column(name, lambda obj: format_amount(getattr(obj, attr), obj.currency), amount=True)


def field(name: str, path: str | None = None, *, optional: bool = False) -> Column:
    """A plain column: the attribute at the dotted `path` (default `name`); `optional` when
    only some of the dataset's rows have it (a credit note has no due date)."""
    parts = (path or name).split(".")

    def value(obj: Any) -> Any:
        for part in parts:
            obj = getattr(obj, part, None) if optional else getattr(obj, part)
            if obj is None:
                return None
        return obj

    return Column(name, value)


@dataclass(frozen=True)
class Dataset:
    name: str  # in the URL and the file name
    label: str | Promise  # what a person reads on the exports page
    columns: tuple[Column, ...]
    querysets: QuerySets
    # The filters it takes (names of ListFilters; "created" for the range) and its statuses.
    filters: frozenset[str]
    statuses: tuple[tuple[str, str], ...] = ()

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    def rows(self, objects: Iterator[Any]) -> Iterator[list[str]]:
        for obj in objects:
            yield [column.cell(obj) for column in self.columns]


def _payments(tenant: Tenant | None, filters: ListFilters) -> list[QuerySet[Any]]:
    return [payment_list(tenant=tenant, filters=filters).select_related("order", "tenant")]


def _refunds(tenant: Tenant | None, filters: ListFilters) -> list[QuerySet[Any]]:
    queryset = refund_list(tenant=tenant, filters=filters)
    return [queryset.select_related("payment_attempt__order", "tenant")]


def _settlements(tenant: Tenant | None, filters: ListFilters) -> list[QuerySet[Any]]:
    queryset = settlement_list(tenant=tenant, filters=filters)
    return [queryset.select_related("order", "payment_attempt", "tenant")]


def _documents(tenant: Tenant | None, filters: ListFilters) -> list[QuerySet[Any]]:
    return [
        invoice_export_list(tenant=tenant, filters=filters),
        credit_note_export_list(tenant=tenant, filters=filters),
    ]


def _ledger(tenant: Tenant | None, filters: ListFilters) -> list[QuerySet[Any]]:
    return [ledger_entry_export_list(tenant=tenant, filters=filters)]


def _document_type(doc: Invoice | CreditNote) -> str:
    return "invoice" if isinstance(doc, Invoice) else "credit_note"


def _invoice_only(attr: str) -> Column:
    """An amount only an invoice has (a credit note's cell is empty)."""

    def value(doc: Invoice | CreditNote) -> str:
        return format_amount(getattr(doc, attr), doc.currency) if isinstance(doc, Invoice) else ""

    return Column(attr, value, amount=True)


def _document_period(doc: Invoice | CreditNote) -> str:
    invoice = doc if isinstance(doc, Invoice) else doc.invoice
    return f"{invoice.year:04d}-{invoice.month:02d}"


ANY_LIST_FILTER = frozenset({"status", "provider", "method", "reference", "created"})

PAYMENTS = Dataset(
    name="payments",
    label=_("Payments"),
    columns=(
        field("id"),
        field("tenant", "tenant.slug"),
        field("created_at"),
        field("paid_at"),
        field("order_reference", "order.reference"),
        field("provider"),
        field("method"),
        field("status"),
        field("currency"),
        amount("amount"),
        amount("refunded_amount"),
        field("provider_reference"),
        field("failure_code"),
        field("failure_message"),
    ),
    querysets=_payments,
    filters=ANY_LIST_FILTER,
    statuses=tuple(PaymentAttempt.Status.choices),
)

REFUNDS = Dataset(
    name="refunds",
    label=_("Refunds"),
    columns=(
        field("id"),
        field("tenant", "tenant.slug"),
        field("created_at"),
        field("updated_at"),
        field("payment_id", "payment_attempt_id"),
        field("order_reference", "payment_attempt.order.reference"),
        field("provider", "payment_attempt.provider"),
        field("method", "payment_attempt.method"),
        field("status"),
        field("source"),
        field("currency"),
        amount("amount"),
        field("reason"),
        field("provider_reference"),
        field("failure_message"),
    ),
    querysets=_refunds,
    filters=ANY_LIST_FILTER,
    statuses=tuple(RefundRecord.Status.choices),
)

SETTLEMENTS = Dataset(
    name="settlements",
    label=_("Settlements"),
    columns=(
        field("id"),
        field("tenant", "tenant.slug"),
        field("created_at"),
        field("payment_paid_at"),
        field("order_reference", "order.reference"),
        field("payment_id", "payment_attempt_id"),
        field("provider", "payment_attempt.provider"),
        field("method", "payment_attempt.method"),
        field("status"),
        field("currency"),
        amount("gross_amount"),
        amount("wasla_fee"),
        amount("net_amount"),
    ),
    querysets=_settlements,
    filters=ANY_LIST_FILTER,
    statuses=tuple(SettlementRecord.Status.choices),
)

INVOICES = Dataset(
    name="invoices",
    label=_("Invoices and credit notes"),
    columns=(
        Column("type", _document_type),
        field("number", "display_number"),
        field("tenant", "tenant.slug"),
        field("issued_at"),
        Column("period", _document_period),
        field("status"),
        field("invoice_number", "invoice.display_number", optional=True),  # a credit note's
        field("currency"),
        amount("subtotal"),
        amount("vat_total"),
        amount("total"),
        _invoice_only("amount_paid"),
        _invoice_only("amount_due"),
        field("due_date", optional=True),
        field("reason", optional=True),
    ),
    querysets=_documents,
    filters=frozenset({"status", "created"}),
    statuses=tuple((status.value, status.label) for status in LISTED_INVOICE_STATUSES),
)

LEDGER = Dataset(
    name="ledger",
    label=_("Ledger entries"),
    columns=(
        field("id"),
        field("tenant", "tenant.slug"),
        field("transaction_sequence", "transaction.sequence"),
        field("created_at", "transaction.created_at"),
        field("entry_type", "transaction.entry_type"),
        field("reference_id", "transaction.reference_id"),
        field("account", "account.code"),
        field("account_type", "account.type"),
        field("currency", "account.currency"),
        amount("debit"),
        amount("credit"),
        amount("balance_after"),
    ),
    querysets=_ledger,
    filters=frozenset({"created"}),
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (PAYMENTS, REFUNDS, SETTLEMENTS, INVOICES, LEDGER)
}


def dataset_chunks(
    *,
    dataset: Dataset,
    tenant: Tenant | None,
    filters: ListFilters,
    scope: Callable[[], AbstractContextManager[object]],
) -> Iterator[bytes]:
    """The dataset's CSV, produced inside `scope` and one transaction while it is read."""

    def body() -> Iterator[bytes]:
        objects = queryset_rows(dataset.querysets(tenant, filters))
        return csv_chunks(header=dataset.header, rows=dataset.rows(objects))

    return stream_in_scope(scope=scope, body=body)


def dataset_response(
    *,
    dataset: Dataset,
    tenant: Tenant | None,
    filters: ListFilters,
    scope: Callable[[], AbstractContextManager[object]],
    today: date,
) -> StreamingHttpResponse:
    chunks = dataset_chunks(dataset=dataset, tenant=tenant, filters=filters, scope=scope)
    return csv_response(stem=dataset.name, chunks=chunks, today=today)
