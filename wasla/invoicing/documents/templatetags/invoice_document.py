"""Template helpers of the invoice document: bilingual labels, quantities and VAT rates."""

from decimal import Decimal

from django import template
from django.utils import translation

from wasla.invoicing.documents.labels import LABELS

register = template.Library()


@register.simple_tag
def label(msgid: str, language: str) -> str:
    """`{% label "Seller" "ar" %}`: a document label in one of its two languages.

    An unknown label is an error, not English text in the Arabic column.
    """
    if msgid not in LABELS:
        raise template.TemplateSyntaxError(f"{msgid!r} is not a document label (labels.py)")
    with translation.override(language):
        return translation.gettext(msgid)


@register.filter
def quantity(value: Decimal) -> str:
    """1234 → "1234", 1.500 → "1.5": no trailing zeros and never an exponent."""
    return f"{value.normalize():f}"


@register.filter
def percent(value: Decimal) -> str:
    """Decimal("15.00") → "15%" (a VAT rate is stored as a percentage)."""
    return f"{value.normalize():f}%"
