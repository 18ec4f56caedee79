"""Celery tasks of ZATCA: stamping the waiting documents (after each issue, and in the sweep)
and clearing each stamped one with retries and exponential backoff.

Each task runs on the platform's behalf (one EGS chain serves every tenant), through the audited
`platform_access`; each calls one service.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from wasla.tenants.context import platform_access

from .stamping import zatca_stamp_pending

logger = logging.getLogger(__name__)


@shared_task(name="zatca.stamp_pending", ignore_result=True)
def zatca_stamp_pending_task() -> int:
    """Stamp the waiting documents in issue order; returns how many were stamped."""
    with platform_access(reason="ZATCA: stamp the documents waiting for the chain"):
        outcomes = zatca_stamp_pending(now=timezone.now())
    return sum(1 for outcome in outcomes if outcome.outcome == "stamped")
