"""Merchant API: the billing card Wasla charges its invoices to (Wasla's own Stripe account).

`POST /api/v1/billing/card/setup/` answers the hosted Checkout page (setup mode) where the
merchant saves a card; the card is stored when Stripe's signed event arrives.
`GET /api/v1/billing/card/` shows the saved card (brand, last 4, expiry) or 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from wasla.common.problems import NotFound, Problem
from wasla.invoicing import billing_stripe
from wasla.invoicing.billing_cards import billing_card_get, billing_card_setup_start
from wasla.tenants.auth import request_tenant

from .base import ApiView
from .idempotency import idempotent
from .views import IDEMPOTENCY_HEADER, _valid


class BillingUnavailable(Problem):
    status, slug, title = 503, "billing-unavailable", _("Card saving is unavailable")


class CardSetupInput(serializers.Serializer):
    return_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="Where the merchant comes back after saving (or not saving) the card.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Every field is optional: a misspelt one must not pass as "no input".
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name[:100]: ["Unknown field."] for name in unknown})
        return attrs


class CardSetupOutput(serializers.Serializer):
    checkout_url = serializers.URLField(help_text="Stripe's hosted page to save the card on.")


class CardOutput(serializers.Serializer):
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    saved_at = serializers.DateTimeField()


class BillingCardApi(ApiView):
    serializer_class = CardOutput

    @extend_schema(responses={200: CardOutput})
    def get(self, request: Request) -> Response:
        card = billing_card_get(tenant=request_tenant(request))
        if card is None:
            raise NotFound("No billing card is saved.")
        return Response(CardOutput(card).data)


class BillingCardSetupApi(ApiView):
    serializer_class = CardSetupOutput

    @extend_schema(
        request=CardSetupInput,
        responses={201: CardSetupOutput},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(CardSetupInput, request.data)
        return_url = data.get("return_url") or settings.WASLA_PUBLIC_BASE_URL
        try:
            url = billing_card_setup_start(
                tenant=request_tenant(request), currency="SAR", return_url=return_url
            )
        except (billing_stripe.BillingStripeUnavailable, billing_stripe.BillingStripeRefused):
            raise BillingUnavailable("Stripe could not be reached; try again.") from None
        return Response(CardSetupOutput({"checkout_url": url}).data, status=status.HTTP_201_CREATED)
