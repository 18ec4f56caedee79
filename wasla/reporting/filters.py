"""The query string of an export download, read into a `ListFilters`.

A download link carries the filters of the list it was made from: the API's names
(`status`, `provider`, `method`, `reference`, `created_after`, `created_before`: ISO 8601
dates or date-times) or a page form's day range (`date_from`, `date_to`: Riyadh days, both
included). Other parameters of the list page (its page number, sort order, ...) are not
filters and are ignored; a filter the dataset cannot apply, or a bad value, is a form error
the view answers with a 400.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from wasla.common.listing import (
    MOMENT_YEARS,
    ListFilters,
    day_after_start,
    day_start,
    moment_parse,
)
from wasla.common.problems import problem_response
from wasla.payments.models import PaymentAttempt
from wasla.payments.providers.registry import provider_names
from wasla.tenants.models import Tenant

from .exports import Dataset


class MomentField(forms.Field):
    """An ISO 8601 date (Riyadh midnight) or date-time (no offset: Riyadh time)."""

    default_error_messages = {
        "invalid": _("Enter a date as 2026-12-01 or a date and time as 2026-12-01T09:30:00+03:00.")
    }

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        try:
            return moment_parse(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class DayField(forms.DateField):
    """A Riyadh day of the years a filter can name (year 9999 has no day after it)."""

    def to_python(self, value: Any) -> Any:
        day = super().to_python(value)
        if day is not None and not MOMENT_YEARS[0] <= day.year <= MOMENT_YEARS[1]:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return day


class ExportFilterForm(forms.Form):
    date_from = DayField(label=_("From"), required=False)
    date_to = DayField(label=_("To"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    method = forms.ChoiceField(
        label=_("Method"), required=False, choices=[("", ""), *PaymentAttempt.Method.choices]
    )
    reference = forms.CharField(label=_("Order reference"), required=False, max_length=64)
    created_after = MomentField(label=_("Created at or after"), required=False)
    created_before = MomentField(label=_("Created before"), required=False)

    def __init__(self, *args: Any, dataset: Dataset, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        self.fields["status"].choices = [("", ""), *dataset.statuses]  # type: ignore[attr-defined]
        self.fields["provider"].choices = [  # type: ignore[attr-defined]
            ("", ""),
            *((name, name) for name in provider_names()),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        for name in ("status", "provider", "method", "reference"):
            if data.get(name) and name not in self.dataset.filters:
                self.add_error(name, _("This export cannot be filtered by this."))
        after, before = data.get("created_after"), data.get("created_before")
        if data.get("date_from") is not None:
            start = day_start(data["date_from"])
            after = start if after is None else max(after, start)
        if data.get("date_to") is not None:
            end = day_after_start(data["date_to"])
            before = end if before is None else min(before, end)
        if (after is not None or before is not None) and "created" not in self.dataset.filters:
            self.add_error(None, _("This export cannot be filtered by date."))
        elif after is not None and before is not None and not after < before:
            self.add_error(None, _("The end of the period must come after its start."))
        data["created_after"], data["created_before"] = after, before
        return data

    def list_filters(self) -> ListFilters:
        """The validated filters (call after `is_valid()` answered True)."""
        return ListFilters.of(self.cleaned_data)


class TenantChoice(forms.Form):
    """Staff exports: one tenant (`?tenant=<id>`) or, left out, every tenant."""

    tenant = forms.ModelChoiceField(
        label=_("Store"), required=False, queryset=Tenant.objects.order_by("pk")
    )


def export_problem(*forms_: forms.Form) -> JsonResponse:
    """A 400 problem naming each bad parameter, for a download link that has none to show."""
    errors: dict[str, list[str]] = {}
    for form in forms_:
        for name, messages in form.errors.items():
            errors[name] = [str(message) for message in messages]
    return problem_response(
        400, "invalid-filter", str(_("These export filters are not valid.")), errors=errors
    )


def staff_only_problem() -> JsonResponse:
    return problem_response(403, "forbidden", str(_("Only Wasla staff can download this.")))
