"""A collection try's place in the dunning schedule, and how what Stripe said settles it.

Try n of an invoice is due `WASLA_COLLECTION_SCHEDULE_DAYS[n-1]` days after the invoice was
issued (1, 3, 7 by default). A pending try takes any outcome; a settled one only `succeeded`
(the merchant paid on the hosted page); a succeeded one never changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from .models import CollectionTry, Invoice

Status = CollectionTry.Status


def schedule_days() -> list[int]:
    return list(settings.WASLA_COLLECTION_SCHEDULE_DAYS)


def try_due_at(*, invoice: Invoice, number: int) -> datetime | None:
    """When try `number` of `invoice` is due; None past the end of the schedule."""
    days = schedule_days()
    if invoice.issued_at is None or not 1 <= number <= len(days):
        return None
    return invoice.issued_at + timedelta(days=days[number - 1])


def collection_try_settle(
    *, attempt: CollectionTry, status: str, intent_id: str = "", code: str = "", message: str = ""
) -> None:
    """Record what Stripe said of a locked try. A pending try takes any outcome; a settled one
    only `succeeded` (the merchant paid on the hosted page); a succeeded one never changes."""
    if intent_id and not attempt.payment_intent_id:
        attempt.payment_intent_id = intent_id[:100]
    if attempt.status == Status.SUCCEEDED or (
        attempt.status != Status.PENDING and status != Status.SUCCEEDED
    ):
        attempt.save(update_fields=["payment_intent_id", "updated_at"])
        return
    attempt.status = status
    attempt.decline_code, attempt.decline_message = code[:100], message[:500]
    attempt.next_try_at = None
    if status != Status.SUCCEEDED:
        attempt.next_try_at = try_due_at(invoice=attempt.invoice, number=attempt.number + 1)
    attempt.save()
