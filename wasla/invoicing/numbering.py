"""Gap-free document numbers (docs/invariants.md, invariant 9).

One counter row per series. The issuing transaction locks it (`SELECT … FOR UPDATE`), raises it
by one and writes the number onto the document before it commits: a concurrent issue waits for
the lock, and an issue that rolls back rolls the counter back with it, so its number is handed
out again and no number is ever skipped or used twice. A database sequence would be faster but
loses the numbers of rolled-back transactions. The counter can only rise (trigger).
"""

from __future__ import annotations

from django.db import transaction

from .models import DocumentCounter, DocumentSeries


def document_number_next(*, series: DocumentSeries) -> int:
    """The next number of `series`, reserved until the caller's transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a document number is taken inside the issuing transaction")
    # The row exists from the first issue on; creating it races harmlessly (ON CONFLICT).
    DocumentCounter.objects.bulk_create([DocumentCounter(series=series)], ignore_conflicts=True)
    counter = DocumentCounter.objects.select_for_update().get(series=series)
    number = counter.last_number + 1
    DocumentCounter.objects.filter(pk=counter.pk).update(last_number=number)
    return number
