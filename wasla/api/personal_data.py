"""Shoppers' personal data removed after the retention period (Saudi PDPL), the money kept.

What a shopper gave us (e-mail, phone, name, delivery address) sits in the order's customer
fields and, as the providers echo it, in the JSON we keep of their answers: the payment
attempts' and refunds' `raw_response`, the disputes' `raw`, the webhook inbox's `body`, and the
merchant API's stored idempotent answers (`response_body`, which repeat the order). Rows older
than the period are anonymised in place:

- the order's four customer fields become blank;
- in the JSON, the value of every key that names personal data (`email`, `phone`, `name`,
  `first_name`, `address`, `shipping`, `billing_details`, `payer`'s name, ...) becomes
  REMOVED, and any e-mail address left in another string is replaced too; every other key
  (ids, references, amounts, currencies, statuses, times) is left as it was.

Nothing else is touched: amounts, statuses, references, settlements, ledger entries (append-only
by trigger anyway), invoices and credit notes (merchants', not shoppers') stay exactly as they
were. A webhook body rewritten this way no longer matches its provider's signature; it was
verified and processed long before (the row keeps `signature_valid` and its status), so nothing
re-verifies it. The work goes in batches, each its own short transaction, under audited platform
access; rows already anonymised are left alone, so running it again changes nothing.

Lives in the api app, the highest layer whose imports reach every model it touches (orders,
payments and the api's own idempotency records).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentDispute, RefundRecord, WebhookEvent
from wasla.tenants.context import platform_access

from .models import IdempotencyRecord

REMOVED = "[removed]"
# Keys whose value is personal data wherever they appear in a provider's payload (Tap, Stripe,
# PayPal) or in our own API's answers: any key naming an e-mail, phone or address
# (`receipt_email`, `customer_email_address`, `phone_number`, `billing_address`, ...), and these
# names of people, address parts and blocks of contact details.
_PERSONAL_KEY = re.compile(
    r"e-?mail|phone|mobile|msisdn|address|"
    r"^(name|first_name|middle_name|last_name|given_name|surname|full_name|customer_name|"
    r"billing_name|shipping_name|cardholder_name|line[12]|postal_code|shipping|"
    r"shipping_details|billing_details|customer_details|client_ip)$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+\.[A-Za-z]{2,}")
ORDER_FIELDS = ("customer_email", "customer_phone", "customer_name", "delivery_address")
DEFAULT_BATCH_SIZE = 500


def anonymised(value: Any) -> Any:
    """A copy of a JSON value with its personal data replaced by REMOVED (see the module)."""
    if isinstance(value, dict):
        return {
            key: REMOVED if _PERSONAL_KEY.search(str(key)) and _holds(item) else anonymised(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [anonymised(item) for item in value]
    if isinstance(value, str):
        return _EMAIL.sub(REMOVED, value)
    return value


def _holds(item: Any) -> bool:
    """Whether a personal key's value holds anything (flags such as Tap's receipt
    `{"email": false}` and empty values are kept as they are)."""
    return not isinstance(item, bool) and item not in (None, "", {}, [], REMOVED)


def anonymised_text(text: str) -> str:
    """A stored request body: anonymised as JSON when it is JSON, else its e-mail addresses."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return _EMAIL.sub(REMOVED, text)
    cleaned = anonymised(parsed)
    return text if cleaned == parsed else json.dumps(cleaned, ensure_ascii=False)


@dataclass(frozen=True)
class _Table:
    """One kind of row: its model, the column that dates it, and how one row is anonymised
    (returns the fields it changed; none when the row holds no personal data any more)."""

    label: str
    model: type[models.Model]
    dated_by: str
    candidates: Callable[[models.QuerySet[Any]], models.QuerySet[Any]]
    clean: Callable[[Any], list[str]]


def _clean_json(attribute: str) -> Callable[[Any], list[str]]:
    def clean(row: Any) -> list[str]:
        before = getattr(row, attribute)
        after = anonymised(before)
        if after == before:
            return []
        setattr(row, attribute, after)
        return [attribute]

    return clean


def _clean_order(order: Order) -> list[str]:
    changed = [name for name in ORDER_FIELDS if getattr(order, name)]
    for name in changed:
        setattr(order, name, "")
    return changed


def _clean_body(event: WebhookEvent) -> list[str]:
    after = anonymised_text(event.body)
    if after == event.body:
        return []
    event.body = after
    return ["body"]


def _order_candidates(rows: models.QuerySet[Any]) -> models.QuerySet[Any]:
    # Exactly the orders that still hold something: a second run finds none.
    return rows.exclude(customer_email="", customer_phone="", customer_name="", delivery_address="")


def _with_json(column: str) -> Callable[[models.QuerySet[Any]], models.QuerySet[Any]]:
    # An empty payload has nothing to remove; the others are read and compared in Python.
    return lambda rows: rows.exclude(**{column: {}}).exclude(**{f"{column}__isnull": True})


TABLES = (
    _Table("orders", Order, "created_at", _order_candidates, _clean_order),  # type: ignore[arg-type]
    _Table(
        "payment attempts",
        PaymentAttempt,
        "created_at",
        _with_json("raw_response"),
        _clean_json("raw_response"),
    ),
    _Table(
        "refunds",
        RefundRecord,
        "created_at",
        _with_json("raw_response"),
        _clean_json("raw_response"),
    ),
    _Table("disputes", PaymentDispute, "created_at", _with_json("raw"), _clean_json("raw")),
    _Table(
        "webhook events",
        WebhookEvent,
        "received_at",
        lambda rows: rows.exclude(body=""),
        _clean_body,  # type: ignore[arg-type]
    ),
    _Table(
        "API idempotency records",
        IdempotencyRecord,
        "created_at",
        _with_json("response_body"),
        _clean_json("response_body"),
    ),
)


@dataclass
class PurgeReport:
    """Per kind of row: how many were looked at (older than the cutoff) and anonymised."""

    cutoff: dt.datetime
    dry_run: bool
    examined: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)


def personal_data_purge(
    *,
    older_than_days: int,
    now: dt.datetime,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: str = "system",
) -> PurgeReport:
    """Anonymise the shopper personal data of every row dated before `now - older_than_days`
    (see the module docstring); `dry_run` counts without writing."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    report = PurgeReport(cutoff=now - dt.timedelta(days=older_than_days), dry_run=dry_run)
    reason = f"purge personal data older than {older_than_days} days" + (
        " (dry run)" if dry_run else ""
    )
    with platform_access(reason=reason, actor=actor):
        for table in TABLES:
            examined, changed = _purge_table(table, report.cutoff, dry_run, batch_size)
            report.examined[table.label] = examined
            report.anonymised[table.label] = changed
    return report


def _purge_table(
    table: _Table, cutoff: dt.datetime, dry_run: bool, batch_size: int
) -> tuple[int, int]:
    manager = table.model._default_manager
    old = table.candidates(manager.filter(**{f"{table.dated_by}__lt": cutoff}))
    examined = changed = 0
    last_pk: Any = None
    while True:
        page = old.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        with transaction.atomic():
            # Locked while read and rewritten: a webhook being processed or a refund being
            # recorded on the same row waits for this short batch, and is not overwritten.
            rows = list(page.select_for_update(of=("self",))[:batch_size])
            if not rows:
                return examined, changed
            last_pk = rows[-1].pk
            examined += len(rows)
            updated: list[Any] = []
            fields: set[str] = set()
            for row in rows:
                touched = table.clean(row)
                if touched:
                    updated.append(row)
                    fields.update(touched)
            changed += len(updated)
            if updated and not dry_run:
                table.model._default_manager.bulk_update(updated, sorted(fields))
