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
    transaction.on_commit(
        lambda: payment_outcome(provider=provider, method=method, outcome=str(target))
    )


def payment_metrics_connect() -> None:
    post_transition.connect(
        _attempt_transitioned, sender=PaymentAttempt, dispatch_uid="wasla_payment_metrics"
    )
