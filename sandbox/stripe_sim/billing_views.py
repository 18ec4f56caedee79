"""HTTP face of the billing endpoints: Customers, PaymentMethods, SetupIntents and PaymentIntents
made through the API (created, confirmed, canceled). The wire format, authentication,
`Idempotency-Key`, `expand[]` and the fault knobs are `views.stripe_api`'s, exactly as for the
Checkout endpoints.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import reverse

from sandbox.stripe_sim import selectors
from sandbox.stripe_sim.billing_serializers import (
    card_payment_method_to_dict,
    customer_to_dict,
    payment_methods_to_list,
    setup_intent_to_dict,
)
from sandbox.stripe_sim.billing_validation import (
    attach_request_parse,
    customer_request_parse,
    payment_intent_confirm_parse,
    payment_intent_create_parse,
    payment_method_list_parse,
)
from sandbox.stripe_sim.customers import (
    customer_create,
    customer_get_param,
    customer_update,
    payment_method_attach,
    payment_method_detach,
)
from sandbox.stripe_sim.intent_cancel import cancellation_reason_parse, payment_intent_cancel
from sandbox.stripe_sim.intents import Confirmed, payment_intent_confirm, payment_intent_create
from sandbox.stripe_sim.serializers import payment_intent_to_dict
from sandbox.stripe_sim.validation import reject_unknown
from sandbox.stripe_sim.views import ApiCall, ApiResult, stripe_api


def _authenticate_url_builder(request: HttpRequest) -> Callable[[str], str]:
    return lambda intent_id: request.build_absolute_uri(
        reverse("sandbox_stripe:authenticate", args=[intent_id])
    )


def _confirmed(result: Confirmed) -> ApiResult:
    if result.card_error is not None:
        return ApiResult(result.card_error.as_dict(), result.events, status=402)
    return ApiResult(payment_intent_to_dict(result.intent), result.events)


# Customers -------------------------------------------------------------------------------------


def _customer_create(call: ApiCall) -> ApiResult:
    request = customer_request_parse(call.params, update=False)
    return ApiResult(
        customer_to_dict(customer_create(account=call.account, request=request, now=call.now))
    )


def _customer_retrieve(call: ApiCall, customer_id: str) -> ApiResult:
    reject_unknown(call.params, ())
    return ApiResult(
        customer_to_dict(selectors.customer_get(account=call.account, customer_id=customer_id))
    )


def _customer_update(call: ApiCall, customer_id: str) -> ApiResult:
    request = customer_request_parse(call.params, update=True)
    customer = customer_update(account=call.account, customer_id=customer_id, request=request)
    return ApiResult(customer_to_dict(customer))


def _customer_payment_methods(call: ApiCall, customer_id: str) -> ApiResult:
    request = payment_method_list_parse(call.params, customer_param=False)
    customer = selectors.customer_get(account=call.account, customer_id=customer_id)
    methods, has_more = selectors.customer_payment_methods_list(
        customer=customer, limit=request.limit
    )
    url = f"/v1/customers/{customer.id}/payment_methods"
    return ApiResult(payment_methods_to_list(methods, url, has_more=has_more))


# PaymentMethods --------------------------------------------------------------------------------


def _payment_method_list(call: ApiCall) -> ApiResult:
    request = payment_method_list_parse(call.params, customer_param=True)
    customer = customer_get_param(call.account, request.customer, "customer")
    methods, has_more = selectors.customer_payment_methods_list(
        customer=customer, limit=request.limit
    )
    return ApiResult(payment_methods_to_list(methods, "/v1/payment_methods", has_more=has_more))


def _payment_method_retrieve(call: ApiCall, method_id: str) -> ApiResult:
    reject_unknown(call.params, ())
    method = selectors.payment_method_get(account=call.account, method_id=method_id)
    return ApiResult(card_payment_method_to_dict(method))


def _payment_method_attach(call: ApiCall, method_id: str) -> ApiResult:
    customer_id = attach_request_parse(call.params)
    method, events = payment_method_attach(
        account=call.account,
        method_id=method_id,
        customer_id=customer_id,
        now=call.now,
        request=call.ref,
    )
    return ApiResult(card_payment_method_to_dict(method), events)


def _payment_method_detach(call: ApiCall, method_id: str) -> ApiResult:
    reject_unknown(call.params, ())
    method, events = payment_method_detach(
        account=call.account, method_id=method_id, now=call.now, request=call.ref
    )
    return ApiResult(card_payment_method_to_dict(method), events)


# SetupIntents and PaymentIntents ---------------------------------------------------------------


def _setup_intent_retrieve(call: ApiCall, intent_id: str) -> ApiResult:
    reject_unknown(call.params, ("client_secret",))
    intent = selectors.setup_intent_get(account=call.account, intent_id=intent_id)
    return ApiResult(setup_intent_to_dict(intent))


def _intent_create(call: ApiCall) -> ApiResult:
    request = payment_intent_create_parse(call.params)
    return _confirmed(
        payment_intent_create(
            account=call.account,
            request=request,
            now=call.now,
            request_ref=call.ref,
            authenticate_url_for=_authenticate_url_builder(call.request),
        )
    )


def _intent_confirm(call: ApiCall, intent_id: str) -> ApiResult:
    request = payment_intent_confirm_parse(call.params)
    return _confirmed(
        payment_intent_confirm(
            account=call.account,
            intent_id=intent_id,
            request=request,
            now=call.now,
            request_ref=call.ref,
            authenticate_url_for=_authenticate_url_builder(call.request),
        )
    )


def _intent_cancel(call: ApiCall, intent_id: str) -> ApiResult:
    reason = cancellation_reason_parse(call.params)
    return _confirmed(
        payment_intent_cancel(
            account=call.account,
            intent_id=intent_id,
            reason=reason,
            now=call.now,
            request_ref=call.ref,
        )
    )


customers_api = stripe_api(POST=_customer_create)
customer_api = stripe_api(GET=_customer_retrieve, POST=_customer_update)
customer_payment_methods_api = stripe_api(GET=_customer_payment_methods)
payment_methods_api = stripe_api(GET=_payment_method_list)
payment_method_api = stripe_api(GET=_payment_method_retrieve)
payment_method_attach_api = stripe_api(POST=_payment_method_attach)
payment_method_detach_api = stripe_api(POST=_payment_method_detach)
setup_intent_api = stripe_api(GET=_setup_intent_retrieve)
payment_intents_api = stripe_api(POST=_intent_create)
payment_intent_confirm_api = stripe_api(POST=_intent_confirm)
payment_intent_cancel_api = stripe_api(POST=_intent_cancel)
