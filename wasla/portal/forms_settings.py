"""Forms of the portal's settings pages: gateway keys, API tokens, the team.

Secret fields are write-only: a password input that never renders a value back (not even after
a validation error), and an empty one keeps what is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wasla.tenants.models import TenantMember

if TYPE_CHECKING:  # a dev dependency (django-stubs), for the annotations only
    from django_stubs_ext import StrOrPromise

PROVIDER_LABELS = {
    "tap": _("Tap"),
    "stripe": _("Stripe"),
    "paypal": _("PayPal"),
    "cod": _("Cash on delivery"),
}
MODE_LABELS = {"sandbox": _("Sandbox"), "live": _("Live")}
# The portal's own words for the roles, so its catalog carries their Arabic.
ROLE_LABELS: dict[str, str | Promise] = {
    TenantMember.Role.OWNER.value: _("Owner"),
    TenantMember.Role.FINANCE.value: _("Finance"),
    TenantMember.Role.VIEWER.value: _("Viewer"),
}
ROLE_CHOICES = list(ROLE_LABELS.items())
# What the team services' refusals (ValidationError codes) say to a person.
TEAM_ERRORS = {
    "last_owner": _("A store needs at least one owner: make another member owner first."),
    "login_exists": _("This e-mail address already has a Wasla login."),
}


def _secret_field(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.CharField:
    """Write-only: rendered empty every time, even after a validation error."""
    return forms.CharField(
        label=label,
        max_length=500,
        required=False,
        strip=True,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class GatewayKeysForm(forms.Form):
    """The keys of a gateway already connected (its provider and mode do not change)."""

    public_key = forms.CharField(label=_("Public key or client ID"), max_length=255, required=False)
    secret_key = _secret_field(_("Secret key or client secret"))
    webhook_secret = _secret_field(
        _("Webhook secret or webhook ID"),
        _(
            "Optional for Stripe and PayPal: left empty, Wasla registers its webhook URL with "
            "the provider and keeps the answer."
        ),
    )
    is_active = forms.BooleanField(
        label=_("Use this gateway for checkouts"), required=False, initial=True
    )

    def __init__(
        self, *args: object, secret_set: bool = False, webhook_set: bool = False, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        keep = _("•••• set: leave empty to keep it.")
        if secret_set:
            self.fields["secret_key"].help_text = keep
        if webhook_set:
            self.fields["webhook_secret"].help_text = keep


class GatewayConnectForm(GatewayKeysForm):
    provider = forms.ChoiceField(label=_("Provider"), choices=list(PROVIDER_LABELS.items()))
    mode = forms.ChoiceField(label=_("Mode"), choices=list(MODE_LABELS.items()), initial="sandbox")

    field_order = ["provider", "mode", "public_key", "secret_key", "webhook_secret", "is_active"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("provider") in ("tap", "stripe", "paypal") and not data.get("secret_key"):
            self.add_error("secret_key", _("Enter the secret key the provider gave you."))
        return data


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses this token, for example “ERP integration”."),
    )


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="viewer")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
