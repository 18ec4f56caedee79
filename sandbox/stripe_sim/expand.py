"""`expand[]=…`: replace an id in a response by the object itself, as Stripe does.

Only the links between the simulated objects can be expanded (`payment_intent`, `setup_intent`
and `line_items` of a session, `latest_charge`, `customer` and `payment_method` of an intent,
`customer` and `payment_method` of a SetupIntent, `customer` of a PaymentMethod,
`payment_intent` of a charge, `charge` and `payment_intent` of a refund), to at most four levels
(`setup_intent.payment_method`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sandbox.stripe_sim import errors, selectors
from sandbox.stripe_sim.billing_serializers import (
    card_payment_method_to_dict,
    customer_to_dict,
    setup_intent_to_dict,
)
from sandbox.stripe_sim.models import StripeAccount, StripeCharge, StripePaymentMethod
from sandbox.stripe_sim.serializers import (
    charge_to_dict,
    line_items_to_list,
    payment_intent_to_dict,
    payment_method_to_dict,
)

MAX_DEPTH: Final = 4
MAX_PATHS: Final = 20

Loader = Callable[[StripeAccount, dict[str, Any]], dict[str, Any]]


def _intent(field: str) -> Loader:
    def load(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
        intent = selectors.payment_intent_get(account=account, intent_id=obj[field])
        return payment_intent_to_dict(intent)

    return load


def _charge(field: str) -> Loader:
    def load(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
        return charge_to_dict(selectors.charge_get(account=account, charge_id=obj[field]))

    return load


def _customer(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
    return customer_to_dict(selectors.customer_get(account=account, customer_id=obj["customer"]))


def _setup_intent(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
    intent = selectors.setup_intent_get(account=account, intent_id=obj["setup_intent"])
    return setup_intent_to_dict(intent)


def _payment_method(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
    method = StripePaymentMethod.objects.filter(pk=obj["payment_method"], account=account).first()
    if method is not None:
        return card_payment_method_to_dict(method)
    # A card paid on Checkout's payment page has no PaymentMethod row: it is rendered from the
    # charge that used it.
    charge = StripeCharge.objects.filter(
        account=account, payment_method=obj["payment_method"]
    ).first()
    if charge is None:
        raise errors.no_such("PaymentMethod", obj["payment_method"])
    return payment_method_to_dict(charge)


def _line_items(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
    return line_items_to_list(selectors.checkout_session_get(account=account, session_id=obj["id"]))


EXPANDABLE: Final[dict[str, dict[str, Loader]]] = {
    "checkout.session": {
        "payment_intent": _intent("payment_intent"),
        "setup_intent": _setup_intent,
        "line_items": _line_items,
    },
    "payment_intent": {
        "latest_charge": _charge("latest_charge"),
        "customer": _customer,
        "payment_method": _payment_method,
    },
    "setup_intent": {"customer": _customer, "payment_method": _payment_method},
    "payment_method": {"customer": _customer},
    "charge": {"payment_intent": _intent("payment_intent")},
    "refund": {"charge": _charge("charge"), "payment_intent": _intent("payment_intent")},
}
# Present only when expanded, not as an id.
EXPANDED_ONLY: Final = frozenset({("checkout.session", "line_items")})


def expand_paths_parse(value: Any) -> list[str]:
    """The `expand` parameter: absent, or an array of dotted paths."""
    if value is None or value == "":
        return []
    if not isinstance(value, list) or len(value) > MAX_PATHS:
        raise errors.invalid("Invalid array", param="expand")
    for path in value:
        if not isinstance(path, str) or not path or path.count(".") >= MAX_DEPTH:
            raise errors.invalid(f"Invalid expand path: {path!r}", param="expand")
    return value


def _expand_one(obj: dict[str, Any], path: list[str], account: StripeAccount, full: str) -> None:
    field, rest = path[0], path[1:]
    loader = EXPANDABLE.get(obj.get("object", ""), {}).get(field)
    if loader is None:
        raise errors.invalid(f"This property cannot be expanded ({full}).", param="expand")
    value = obj.get(field)
    if isinstance(value, str) or ((obj["object"], field) in EXPANDED_ONLY and value is None):
        obj[field] = value = loader(account, obj)
    if rest and isinstance(value, dict):
        _expand_one(value, rest, account, full)


def expand_apply(obj: dict[str, Any], paths: list[str], account: StripeAccount) -> dict[str, Any]:
    for path in paths:
        _expand_one(obj, path.split("."), account, path)
    return obj
