"""Celery tasks of ZATCA: stamping the waiting documents (after each issue) and then clearing
each one it stamped, clearance with bounded exponential backoff while ZATCA is unavailable,
and the sweep (beat) that stamps what waits and re-drives the clearances nobody holds.

Each task runs on the platform's behalf (one EGS chain serves every tenant), through the audited
`platform_access`; each calls one service.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from wasla.tenants.context import platform_access

from .clearance import (
    document_next_in_chain,
    documents_awaiting_clearance,
    zatca_document_clear,
)
from .client import ZatcaUnavailable
from .stamping import zatca_stamp_pending

logger = logging.getLogger(__name__)


@shared_task(name="zatca.stamp_pending", ignore_result=True)
def zatca_stamp_pending_task() -> int:
    """Stamp the waiting documents in issue order and queue the clearance of each; returns
    how many were stamped."""
    with platform_access(reason="ZATCA: stamp the documents waiting for the chain"):
        outcomes = zatca_stamp_pending(now=timezone.now())
    stamped = [outcome.document_id for outcome in outcomes if outcome.outcome == "stamped"]
    for document_id in stamped:
        zatca_clear_document_task.delay(document_id)
    return len(stamped)


@shared_task(bind=True, name="zatca.clear_document", ignore_result=True, max_retries=None)
def zatca_clear_document_task(self: Any, document_id: int) -> str:
    """Clear one stamped document; while ZATCA is unavailable, retry after RETRY_SECONDS,
    doubling each time, at most MAX_RETRIES times (then the sweep takes it up)."""
    with platform_access(reason="ZATCA: clear a stamped document"):
        try:
            outcome = zatca_document_clear(document_id=document_id, now=timezone.now())
            following = document_next_in_chain(document_id=document_id)
        except ZatcaUnavailable as error:
            retries = self.request.retries
            if retries >= settings.WASLA_ZATCA_MAX_RETRIES:
                logger.warning("ZATCA document %s left to the sweep: %s", document_id, error)
                return "unavailable"
            countdown = settings.WASLA_ZATCA_RETRY_SECONDS * 2**retries
            raise self.retry(countdown=countdown, exc=error) from None
    if outcome.outcome != "skipped" and following is not None:
        zatca_clear_document_task.delay(following)  # the chain's next document may go now
    return outcome.outcome


@shared_task(name="zatca.sweep", ignore_result=True)
def zatca_sweep_task() -> int:
    """Stamp the documents left waiting, then queue the clearance of every stamped document
    still pending whose lease is free or expired; returns how many clearances were queued."""
    zatca_stamp_pending_task()
    with platform_access(reason="ZATCA: re-drive the clearances left behind"):
        waiting = documents_awaiting_clearance(now=timezone.now())
    for document_id in waiting:
        zatca_clear_document_task.delay(document_id)
    return len(waiting)
