from decimal import Decimal

from django import template

from wasla.common.money import MoneyError, format_amount

register = template.Library()


@register.filter
def money(amount: Decimal, currency: str) -> str:
    """`{{ amount|money:currency }}` → "85.00 SAR", with the currency's own decimals."""
    try:
        return f"{format_amount(amount, currency)} {currency}"
    except MoneyError:
        return f"{amount} {currency}"
