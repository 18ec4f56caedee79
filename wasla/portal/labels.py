"""What a person reads for the codes the money pages show: statuses, methods, providers, fee
adjustments, provider events' outcomes. One place, so every page (and the catalog) agrees."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PAYMENT_STATUS_LABELS: dict[str, Promise] = {
    "created": _("Created"),
    "pending": _("Pending"),
    "paid": _("Paid"),
    "partially_refunded": _("Partially refunded"),
    "refunded": _("Refunded"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
}
METHOD_LABELS: dict[str, Promise] = {
    "mada": _("mada"),
    "stcpay": _("STC Pay"),
    "card": _("Card"),
    "applepay": _("Apple Pay"),
    "paypal": _("PayPal"),
    "cod": _("Cash on delivery"),
}
PROVIDER_LABELS: dict[str, Promise] = {
    "tap": _("Tap"),
    "stripe": _("Stripe"),
    "paypal": _("PayPal"),
    "cod": _("Cash on delivery"),
}
REFUND_STATUS_LABELS: dict[str, Promise] = {
    "pending": _("Refund pending"),
    "succeeded": _("Refunded"),
    "failed": _("Refund failed"),
}
SETTLEMENT_STATUS_LABELS: dict[str, Promise] = {
    "pending": _("Not invoiced yet"),
    "invoiced": _("Invoiced"),
    "paid": _("Invoice paid"),
    "reversed": _("Reversed"),
}
ADJUSTMENT_LABELS: dict[str, Promise] = {
    "reversal": _("Fee reversed"),
    "fee_reduction": _("Fee reduced"),
    "credit_note_due": _("Credit note due on the next invoice"),
    "fee_kept": _("Fee kept"),
    "none": _("No settlement yet: no fee changes"),
}
EVENT_STATUS_LABELS: dict[str, Promise] = {
    "received": _("Received"),
    "processed": _("Processed"),
    "ignored": _("Ignored"),
    "rejected": _("Rejected"),
    "failed": _("Failed"),
}
INVOICE_STATUS_LABELS: dict[str, Promise] = {
    "issued": _("Issued"),
    "paid": _("Paid"),
    "overdue": _("Overdue"),
}
ZATCA_STATUS_LABELS: dict[str, Promise] = {
    "pending": _("Waiting for ZATCA"),
    "cleared": _("Cleared by ZATCA"),
    "cleared_with_warnings": _("Cleared by ZATCA with warnings"),
    "rejected": _("Rejected by ZATCA"),
}
INVOICE_PAYMENT_METHOD_LABELS: dict[str, Promise] = {
    "bank_transfer": _("Bank transfer"),
    "card": _("Card"),
}
# The team roles (tenants' TenantMember.Role) as the portal's frame names them.
ROLE_LABELS: dict[str, Promise] = {
    "owner": _("Owner"),
    "finance": _("Finance"),
    "viewer": _("Viewer"),
}
COLLECTION_LABELS: dict[str, Promise] = {
    "not_started": _("Not charged yet"),
    "pending": _("Charging"),
    "succeeded": _("Charged"),
    "declined": _("Card declined"),
    "requires_authentication": _("Waiting for you to authenticate"),
    "failed": _("Charge failed"),
    "overdue": _("Overdue"),
    "paid": _("Paid"),
}

LABELS: dict[str, dict[str, Promise]] = {
    "payment": PAYMENT_STATUS_LABELS,
    "method": METHOD_LABELS,
    "provider": PROVIDER_LABELS,
    "refund": REFUND_STATUS_LABELS,
    "settlement": SETTLEMENT_STATUS_LABELS,
    "adjustment": ADJUSTMENT_LABELS,
    "event": EVENT_STATUS_LABELS,
    "invoice": INVOICE_STATUS_LABELS,
    "zatca": ZATCA_STATUS_LABELS,
    "invoice_payment": INVOICE_PAYMENT_METHOD_LABELS,
    "collection": COLLECTION_LABELS,
    "role": ROLE_LABELS,
}


def label_of(code: str, vocabulary: str) -> str:
    """The translated label of `code`; the code itself when the vocabulary lacks it (a
    plug-in provider's name, say)."""
    return str(LABELS.get(vocabulary, {}).get(code, code))
