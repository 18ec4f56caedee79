"""The dashboard's forms: the filters every page shares, and the fee-plan simulator's inputs.

Every value comes from the query string, so every value can be wrong: a form turns it into a
clear error on the page (400), never into a 500 or a silently different report.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from wasla.common.money import CURRENCY_EXPONENTS, MoneyError, is_exact
from wasla.payments.providers.registry import provider_names
from wasla.reporting.filters import DayField
from wasla.tenants.models import Tenant

from .labels import choices
from .selectors import Filters, riyadh_day_bounds

DATE = forms.DateInput({"type": "date"}, format="%Y-%m-%d")
DEFAULT_DAYS = 30
MAX_DAYS = 400  # a year and a bit: the 12-month view plus slack, never "everything"


def today_riyadh() -> dt.date:
    return timezone.localdate()  # TIME_ZONE is Asia/Riyadh


class TenantSelect(forms.Select):
    blank_label: Any = ""

    """A select of every tenant, its options written in one pass.

    Django's Select renders each option through a template; at a thousand tenants that alone
    took about half of the dashboard's time (bench/dashboard.py). Same markup, same attributes,
    one `format_html_join` over (id, name, slug) tuples.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        values = value if isinstance(value, list | tuple) else [value]
        chosen = {str(v) for v in values if v not in (None, "")}
        blank = (
            ""
            if self.allow_multiple_selected
            else format_html(
                '<option value=""{}>{}</option>',
                "" if chosen else " selected",
                self.blank_label,
            )
        )
        rows = Tenant.objects.order_by("name", "pk").values_list("pk", "name", "slug")
        options = format_html_join(
            "",
            '<option value="{}"{}>{} ({})</option>',
            (
                (pk, " selected" if str(pk) in chosen else "", label, slug)
                for pk, label, slug in rows
            ),
        )
        extra = {"multiple": True} if self.allow_multiple_selected else {}
        final = self.build_attrs(self.attrs, {**(attrs or {}), **extra, "name": name})
        return format_html("<select{}>{}{}</select>", flatatt(final), blank, options)


class TenantSelectMultiple(TenantSelect, forms.SelectMultiple):
    """TenantSelect for many tenants: no blank option, every chosen one selected."""


class TenantChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    widget = TenantSelect

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.widget, TenantSelect)
        self.widget.blank_label = self.empty_label

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.slug})"


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class TenantMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    widget = TenantSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.slug})"


def _tenant_field() -> TenantChoiceField:
    return TenantChoiceField(
        queryset=Tenant.objects.order_by("name", "pk"),
        required=False,
        empty_label=_("All tenants"),
        label=_("Tenant"),
    )


class FilterForm(forms.Form):
    """Tenant, Riyadh days from/to (inclusive), provider, method and payment status."""

    tenant = _tenant_field()
    date_from = DayField(required=False, label=_("From"), widget=DATE)
    date_to = DayField(required=False, label=_("To"), widget=DATE)
    provider = forms.ChoiceField(required=False, label=_("Provider"))
    method = forms.ChoiceField(
        required=False,
        label=_("Method"),
        choices=_blank(_("All methods")) + choices("method"),
    )
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=_blank(_("All statuses")) + choices("attempt"),
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None:
            # Empty dates mean the default range: shown in the fields, so the page says which.
            data = data.copy()
            end = today_riyadh()
            if not data.get("date_to"):
                data["date_to"] = end.isoformat()
            if not data.get("date_from") and data["date_to"] == end.isoformat():
                data["date_from"] = (end - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(data, **kwargs)
        names = provider_names()
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ChoiceField)
        provider.choices = _blank(_("All providers")) + [(n, n) for n in names]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start = data.get("date_from")
        end = data.get("date_to")
        if self.errors:
            return data
        end = end or today_riyadh()
        start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("Pick at most %(days)s days.") % {"days": MAX_DAYS}, code="too_long"
            )
        data["date_from"], data["date_to"] = start, end
        return data

    def filters(self) -> Filters:
        """The validated filters (call after `is_valid()` returned True)."""
        data = self.cleaned_data
        start, end = riyadh_day_bounds(first=data["date_from"], last=data["date_to"])
        tenant = data.get("tenant")
        return Filters(
            start=start,
            end=end,
            tenant_id=tenant.pk if tenant else None,
            provider=data.get("provider") or None,
            method=data.get("method") or None,
            status=data.get("status") or None,
        )


class InvoiceFilterForm(forms.Form):
    tenant = _tenant_field()
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=_blank(_("All statuses")) + choices("invoice"),
    )


def _money_field(label: Any, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, min_value=Decimal(0), max_digits=14, decimal_places=3
    )


class SimulatorForm(forms.Form):
    """A proposed plan (any of fixed, percentage, minimum, maximum) in one currency, and the
    period whose paid settlements it is replayed on."""

    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(c, c) for c in sorted(CURRENCY_EXPONENTS)], initial="SAR"
    )
    fixed_fee = _money_field(_("Fixed fee"))
    percentage = forms.DecimalField(
        label=_("Percentage"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=7,
        decimal_places=4,
    )
    minimum_fee = _money_field(_("Minimum fee"))
    maximum_fee = _money_field(_("Maximum fee"))
    date_from = DayField(label=_("From"), widget=DATE)
    date_to = DayField(label=_("To"), widget=DATE)
    tenants = TenantMultipleChoiceField(
        queryset=Tenant.objects.order_by("name", "pk"),
        required=False,
        label=_("Tenants (all when none picked)"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        currency = data["currency"]
        for name in ("fixed_fee", "minimum_fee", "maximum_fee"):
            value = data.get(name)
            try:
                exact = value is None or is_exact(value, currency)
            except MoneyError:
                exact = False
            if not exact:
                self.add_error(name, _("Too many decimals for this currency."))
        minimum, maximum = data.get("minimum_fee"), data.get("maximum_fee")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.add_error("maximum_fee", _("The maximum must not be below the minimum."))
        if data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if (data["date_to"] - data["date_from"]).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Pick at most %(days)s days.") % {"days": MAX_DAYS})
        return data
