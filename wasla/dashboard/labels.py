"""What staff read for the stored codes (statuses, methods, circuit states), in their language.

The models' choices carry English labels made from the codes; the dashboard speaks Arabic
first, so it names them here, translatably, once.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LABELS: dict[str, dict[str, Promise]] = {
    "attempt": {
        "created": _("Created"),
        "pending": _("Pending"),
        "paid": _("Paid"),
        "partially_refunded": _("Partially refunded"),
        "refunded": _("Refunded"),
        "failed": _("Failed"),
        "cancelled": _("Cancelled"),
    },
    "method": {
        "mada": _("mada"),
        "stcpay": _("STC Pay"),
        "card": _("Card"),
        "applepay": _("Apple Pay"),
        "paypal": _("PayPal"),
        "cod": _("Cash on delivery"),
    },
    "settlement": {
        "pending": _("Pending"),
        "invoiced": _("Invoiced"),
        "paid": _("Paid"),
        "reversed": _("Reversed"),
    },
    "invoice": {
        "draft": _("Draft"),
        "issued": _("Issued"),
        "paid": _("Paid"),
        "void": _("Void"),
        "overdue": _("Overdue"),
    },
    "circuit": {
        "closed": _("Closed (counting failures)"),
        "open": _("Open"),
        "half_open": _("Half-open (trial call)"),
    },
}


def label(kind: str, code: str) -> str:
    """The translated label of `code`, or the code itself when it has none (a new value)."""
    return str(LABELS.get(kind, {}).get(code, code))


def choices(kind: str) -> list[tuple[str, Promise]]:
    return list(LABELS[kind].items())
