"""The problems (problem+json answers) payment services refuse a request with, including the
ones subscribers of the payment events raise to refuse a checkout."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wasla.common.problems import Conflict, Unprocessable


class PaymentInProgress(Conflict):
    slug, title = "payment-in-progress", _("A payment for this order is already in progress")


class OrderNotPayable(Conflict):
    slug, title = "order-not-payable", _("The order cannot be paid")


class PaymentNotCancellable(Conflict):
    slug, title = "payment-not-cancellable", _("The payment can no longer be cancelled")


class GatewayNotConfigured(Unprocessable):
    slug, title = "gateway-not-configured", _("No active gateway for this provider")


class NoFeePlan(Unprocessable):
    """Raised by a `PaymentCheckoutRequested` subscriber (the settlement app) to refuse a
    checkout in a currency no fee plan covers."""

    slug, title = "no-fee-plan", _("Payments in this currency have no fee plan")
