"""The checkout form of a product page: a payment method and what that method needs.

Cash on delivery needs someone to deliver to (a name and an address); STC Pay needs the mobile
number it sends its code to. Both are checked here, before any order exists, so a refused
checkout leaves nothing behind. Every message is translated: the shopper reads the page in
Arabic unless they switched to English.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

PHONE_PATTERN = r"^\+?[0-9 ]{6,20}$"
ADDRESS_MIN_LENGTH = 10
NAME_MIN_LENGTH = 2


class CheckoutForm(forms.Form):
    """`options` are the store's payment choices (`provider:method`), as the page lists them."""

    payment = forms.ChoiceField(
        label=_("Pay with"),
        error_messages={
            "required": _("Choose a payment method."),
            "invalid_choice": _("Choose a payment method."),
        },
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Enter a valid email address, e.g. you@example.com.")},
    )
    phone = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=20,
        validators=[RegexValidator(PHONE_PATTERN, _("Enter a mobile number, e.g. 0557877988."))],
    )
    customer_name = forms.CharField(label=_("Full name"), required=False, max_length=200)
    delivery_address = forms.CharField(
        label=_("Delivery address"), required=False, max_length=1000, widget=forms.Textarea
    )
    # A retry of an unpaid order from its return page ("try another method").
    order = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, options: list[dict[str, str]], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")  # the ids the page's labels and tests use
        super().__init__(*args, **kwargs)
        payment = self.fields["payment"]
        assert isinstance(payment, forms.ChoiceField)
        payment.choices = [(o["value"], o["label"]) for o in options]

    @property
    def refused_payment(self) -> bool:
        """The payment choice itself was refused (not offered by this store): a 400, not 422."""
        return "payment" in self.errors

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("payment")
        if not choice:
            return data
        _provider, method = choice.split(":", 1)
        for name in ("phone", "customer_name"):  # one line each: runs of spaces collapse
            data[name] = " ".join(str(data.get(name) or "").split())
        data["delivery_address"] = str(data.get("delivery_address") or "").strip()
        if method == "stcpay" and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("STC Pay needs your mobile number."))
        if method == "cod":
            if len(data.get("customer_name", "")) < NAME_MIN_LENGTH:
                self.add_error(
                    "customer_name", _("Cash on delivery needs the name of the person receiving.")
                )
            if len(data.get("delivery_address", "")) < ADDRESS_MIN_LENGTH:
                self.add_error(
                    "delivery_address",
                    _("Enter the delivery address: district, street, building and city."),
                )
        return data
