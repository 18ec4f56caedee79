"""`expand[]=…`: replace an id in a response by the object itself, as Stripe does.

Only the links between the simulated objects can be expanded (`payment_intent` and `line_items`
of a session, `latest_charge` of an intent, `payment_intent` of a charge, `charge` and
`payment_intent` of a refund), to at most four levels (`payment_intent.latest_charge`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sandbox.stripe_sim import errors, selectors
from sandbox.stripe_sim.models import StripeAccount
from sandbox.stripe_sim.serializers import (
    charge_to_dict,
    line_items_to_list,
    payment_intent_to_dict,
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


def _line_items(account: StripeAccount, obj: dict[str, Any]) -> dict[str, Any]:
    return line_items_to_list(selectors.checkout_session_get(account=account, session_id=obj["id"]))


EXPANDABLE: Final[dict[str, dict[str, Loader]]] = {
    "checkout.session": {"payment_intent": _intent("payment_intent"), "line_items": _line_items},
    "payment_intent": {"latest_charge": _charge("latest_charge")},
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
