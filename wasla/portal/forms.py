"""The portal's forms: the payments list's filters and the two steps of a refund.

A filter form validates into `wasla.common.listing.ListFilters`, the one definition of what a
list may be narrowed by; days are Asia/Riyadh's (from the first moment of `date_from` up to
the end of `date_to`). The refund form only checks what a person typed; the refund service
checks again, under the payment's lock, whatever it is given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from wasla.common.listing import ListFilters
from wasla.common.money import MoneyError, round_money
from wasla.payments.models import PaymentAttempt
from wasla.payments.providers.registry import provider_names
from wasla.reporting.filters import DayField
from wasla.settlement.selectors import RIYADH

from .labels import METHOD_LABELS, PAYMENT_STATUS_LABELS, PROVIDER_LABELS

MAX_RANGE_DAYS = 366 * 3


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    method = forms.ChoiceField(label=_("Method"), required=False)
    date_from = DayField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DayField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label=_("Order reference"), required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything: list[tuple[str, Any]] = [("", _("Any"))]
        choices = {
            "status": anything + list(PAYMENT_STATUS_LABELS.items()),
            "provider": anything
            + [(name, PROVIDER_LABELS.get(name, name)) for name in provider_names()],
            "method": anything + list(METHOD_LABELS.items()),
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."))
        return data

    def list_filters(self) -> ListFilters:
        """The validated input as the selectors take it (call after is_valid())."""
        data = self.cleaned_data
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        return ListFilters.of(
            {
                "status": data.get("status"),
                "provider": data.get("provider"),
                "method": data.get("method"),
                "reference": (data.get("reference") or "").strip(),
                "created_after": _riyadh_midnight(start) if start else None,
                "created_before": _riyadh_midnight(end + dt.timedelta(days=1)) if end else None,
            }
        )


def _riyadh_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=RIYADH)


class RefundForm(forms.Form):
    """Step one: how much, and why. Blank amount: all that is left."""

    amount = forms.DecimalField(
        label=_("Amount to refund"),
        required=False,
        max_digits=14,
        decimal_places=3,
        help_text=_("Leave empty to refund everything that is left."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("Reason for the refund"), max_length=255, required=True)

    def __init__(self, *args: Any, attempt: PaymentAttempt, left: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attempt = attempt
        self.left = left

    def clean_amount(self) -> Decimal:
        amount: Decimal | None = self.cleaned_data.get("amount")
        currency = self.attempt.currency
        if amount is None:
            amount = self.left
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        try:
            exact = round_money(amount, currency) == amount
        except MoneyError:
            exact = False
        if not exact:
            raise forms.ValidationError(
                _("Enter the amount with at most the currency's decimal places.")
            )
        if amount > self.left:
            raise forms.ValidationError(_("This is more than what is left to refund."))
        return round_money(amount, currency)


class RefundConfirmForm(forms.Form):
    """Step two: the signed one-time token the confirmation page carries (what was shown)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=2000)
