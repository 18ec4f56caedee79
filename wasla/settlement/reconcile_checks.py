"""Checks that apps above settlement add to `manage.py reconcile`, without settlement importing
them (the layers run one way: invoicing imports settlement, never the reverse).

An app registers a check in its `AppConfig.ready()` (as settlement subscribes to payment
events); the command runs every registered check after its own and reports each difference.
A check reports, never fixes: a difference means a bug or a hand edit, and a person decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class BooksDifference:
    """One identity that does not hold for a tenant and currency."""

    check: str  # the registered check's name
    kind: str  # which identity
    tenant_id: int
    currency: str
    expected: Decimal
    actual: Decimal
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "tenant_id": self.tenant_id,
            "currency": self.currency,
            "expected": str(self.expected),
            "actual": str(self.actual),
            "detail": self.detail,
        }


ReconcileCheck = Callable[[], list[BooksDifference]]

_CHECKS: dict[str, ReconcileCheck] = {}


def reconcile_check_register(name: str, check: ReconcileCheck) -> None:
    """Add `check` to the reconciliation; registering a name again replaces it (idempotent
    when `ready()` runs twice)."""
    _CHECKS[name] = check


def reconcile_checks_run() -> list[BooksDifference]:
    """Every registered check's differences, checks in name order."""
    return [difference for name in sorted(_CHECKS) for difference in _CHECKS[name]()]
