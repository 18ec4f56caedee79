"""Writes of Customers and their card PaymentMethods: create, update, attach, detach.

Stripe's test PaymentMethod ids (`pm_card_visa`, …) are accepted wherever a PaymentMethod is:
each use makes a new concrete `pm_…`, as Stripe does. Locks are taken PaymentMethod first, then
Customer, everywhere, so an attach, a detach and a default-method update never deadlock; the
events they cause are recorded in the same transaction and delivered by the caller.
"""

from __future__ import annotations

from django.db import transaction

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.billing_serializers import card_payment_method_to_dict
from sandbox.stripe_sim.billing_validation import CustomerRequest
from sandbox.stripe_sim.models import StripeAccount, StripeCustomer, StripePaymentMethod
from sandbox.stripe_sim.serializers import CARD_DECLINED_MESSAGE
from sandbox.stripe_sim.services import RequestRef, event_record, new_id
from sandbox.stripe_sim.testcards import BY_TOKEN, Card, card_named

DETACHED_MESSAGE = (
    "This PaymentMethod was previously used without being attached to a Customer or was "
    "detached from a Customer, and may not be used again."
)


def customer_get_param(account: StripeAccount, customer_id: str, param: str) -> StripeCustomer:
    """The customer a parameter names; 400 (not 404) when unknown, as Stripe answers."""
    customer = StripeCustomer.objects.filter(pk=customer_id, account=account).first()
    if customer is None:
        raise errors.no_such_param("customer", customer_id, param=param)
    return customer


def payment_method_create(
    account: StripeAccount, card: Card, now: int, customer: StripeCustomer | None = None
) -> StripePaymentMethod:
    return StripePaymentMethod.objects.create(
        id=new_id("pm_1"),
        account=account,
        customer=customer,
        test_card=card.name,
        billing_email=customer.email if customer else "",
        billing_name=customer.name if customer else "",
        created=now,
    )


def payment_method_for_param(
    account: StripeAccount, method_id: str, now: int, *, param: str = "payment_method"
) -> StripePaymentMethod:
    """The PaymentMethod a parameter names, locked; a test id (`pm_card_visa`) makes a new one."""
    card = BY_TOKEN.get(method_id)
    if card is not None:
        return payment_method_create(account, card, now)
    method = (
        StripePaymentMethod.objects.select_for_update()
        .filter(pk=method_id, account=account)
        .first()
    )
    if method is None:
        raise errors.no_such_param("PaymentMethod", method_id, param=param)
    return method


def _declined_when_saved(card: Card) -> None:
    if card.declines_setup:
        raise errors.card_error(
            CARD_DECLINED_MESSAGE, code="card_declined", decline_code="generic_decline"
        )


def customer_create(
    *, account: StripeAccount, request: CustomerRequest, now: int
) -> StripeCustomer:
    with transaction.atomic(durable=True):
        customer = StripeCustomer.objects.create(
            id=new_id("cus_", 14),
            account=account,
            email=request.email or "",
            name=request.name or "",
            description=request.description or "",
            phone=request.phone or "",
            metadata=request.metadata or {},
            invoice_prefix=new_id("", 8).upper(),
            created=now,
        )
        if request.default_payment_method:
            _default_set(customer, request.default_payment_method)
    return customer


def _default_set(customer: StripeCustomer, method_id: str) -> None:
    """Point `invoice_settings.default_payment_method` at one of the customer's own methods."""
    method = (
        StripePaymentMethod.objects.select_for_update()
        .filter(pk=method_id, account_id=customer.account_id)
        .first()
    )
    if method is None or method.customer_id != customer.id:
        raise errors.invalid(
            f"The customer does not have a payment method with the ID {method_id}. The payment "
            "method must be attached to the customer.",
            param="invoice_settings[default_payment_method]",
        )
    customer.default_payment_method = method
    customer.save(update_fields=["default_payment_method"])


def customer_update(
    *, account: StripeAccount, customer_id: str, request: CustomerRequest
) -> StripeCustomer:
    """Apply the given changes; metadata keys are merged and an empty value removes one."""
    with transaction.atomic(durable=True):
        if request.default_payment_method:
            # PaymentMethod before Customer, the order every billing write locks in.
            StripePaymentMethod.objects.select_for_update().filter(
                pk=request.default_payment_method, account=account
            ).first()
        customer = (
            StripeCustomer.objects.select_for_update()
            .filter(pk=customer_id, account=account)
            .first()
        )
        if customer is None:
            raise errors.no_such("customer", customer_id)
        for name in ("email", "name", "description", "phone"):
            value = getattr(request, name)
            if value is not None:
                setattr(customer, name, value)
        if request.metadata is not None:
            merged = {**customer.metadata, **request.metadata}
            customer.metadata = {key: value for key, value in merged.items() if value}
        customer.save()
        if request.default_payment_method == "":
            customer.default_payment_method = None
            customer.save(update_fields=["default_payment_method"])
        elif request.default_payment_method is not None:
            _default_set(customer, request.default_payment_method)
    return customer


def payment_method_attach(
    *, account: StripeAccount, method_id: str, customer_id: str, now: int, request: RequestRef
) -> tuple[StripePaymentMethod, list[str]]:
    """Attach a PaymentMethod (or a new one made from a test id) to a customer.

    Attaching it again to the same customer changes nothing; to another customer, or after a
    detach, is refused. A card that declines when saved (`pm_card_chargeDeclined`) is a 402.
    """
    with transaction.atomic(durable=True):
        token = BY_TOKEN.get(method_id)
        if token is not None:
            _declined_when_saved(token)
        else:
            known = StripePaymentMethod.objects.filter(pk=method_id, account=account).exists()
            if not known:
                raise errors.no_such("PaymentMethod", method_id)
        method = payment_method_for_param(account, method_id, now)
        customer = customer_get_param(account, customer_id, "customer")
        if method.customer_id == customer.id:
            return method, []
        if method.customer_id is not None:
            raise errors.invalid(
                "The payment method you provided has already been attached to a customer.",
                param="customer",
            )
        if method.detached:
            raise errors.invalid(DETACHED_MESSAGE)
        _declined_when_saved(card_named(method.test_card))
        method.customer = customer
        method.billing_email = method.billing_email or customer.email
        method.billing_name = method.billing_name or customer.name
        method.save()
        event = event_record(
            account_id=account.id,
            type="payment_method.attached",
            data_object=card_payment_method_to_dict(method),
            now=now,
            request=request,
        )
    return method, [event.id]


def payment_method_detach(
    *, account: StripeAccount, method_id: str, now: int, request: RequestRef
) -> tuple[StripePaymentMethod, list[str]]:
    """Detach a PaymentMethod from its customer for good; it stops being the default."""
    with transaction.atomic(durable=True):
        method = (
            StripePaymentMethod.objects.select_for_update()
            .filter(pk=method_id, account=account)
            .first()
        )
        if method is None:
            raise errors.no_such("PaymentMethod", method_id)
        if method.customer_id is None:
            raise errors.invalid(
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible."
            )
        StripeCustomer.objects.filter(pk=method.customer_id, default_payment_method=method).update(
            default_payment_method=None
        )
        method.customer = None
        method.detached = True
        method.save(update_fields=["customer", "detached"])
        event = event_record(
            account_id=account.id,
            type="payment_method.detached",
            data_object=card_payment_method_to_dict(method),
            now=now,
            request=request,
        )
    return method, [event.id]
