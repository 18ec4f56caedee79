"""Payments' metrics: each status an attempt reaches is counted (by provider, method and the
status) once its transaction commits, from django-fsm's `post_transition` signal, so the
services carry no metrics code and a rolled-back transition is never counted."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_fsm.signals import post_transition

from wasla.common.observability.metrics import payment_outcome

from .models import PaymentAttempt


def _attempt_transitioned(
    sender: Any, instance: PaymentAttempt, target: str, **kwargs: Any
) -> None:
    provider, method = instance.provider, instance.method

    def count() -> None:
        payment_outcome(provider=provider, method=method, outcome=str(target))

    # Inside a transaction: once it commits. Outside one (autocommit, or a transition on an
    # object never saved), at once: asking for on_commit there would open a connection.
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(count)
    else:
        count()


def payment_metrics_connect() -> None:
    post_transition.connect(
        _attempt_transitioned, sender=PaymentAttempt, dispatch_uid="wasla_payment_metrics"
    )
