"""`{% load portal_labels %}{{ attempt.status|label:"payment" }}`: the words for our codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from wasla.common.formatting import month_text
from wasla.portal.labels import label_of

register = template.Library()


@register.filter
def label(code: object, vocabulary: str) -> str:
    return label_of(str(code or ""), vocabulary)


@register.filter
def masked_phone(phone: str | None) -> str:
    """+966557877988 → +9665•••••988: enough to recognise, not to call."""
    phone = phone or ""
    if len(phone) <= 6:
        return "•" * len(phone)
    return phone[:5] + "•" * (len(phone) - 8) + phone[-3:]


@register.filter
def masked_email(email: str | None) -> str:
    """buyer@example.com → b••••@example.com."""
    email = email or ""
    name, at, domain = email.partition("@")
    if not at:
        return "•" * len(email)
    return (name[:1] + "•" * max(len(name) - 1, 1)) + "@" + domain


@register.filter
def billing_month(document: Any) -> str:
    """The month an invoice bills ("December 2026" / "ديسمبر 2026")."""
    return month_text(dt.date(document.year, document.month, 1))
