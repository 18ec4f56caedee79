"""Hypothesis strategies for webhook deliveries a stranger or a broken provider could send:
provider-shaped events (Stripe, Tap) with values swapped for wrong types, huge numbers, unicode,
NULs and over-long text; raw bytes; truncated and deeply nested JSON; bodies over the size
limit; each signed with the gateway's real secret (so the payload reader is reached), forged,
missing or stale, under the right, a wrong or no content type, at the real endpoint, another
provider's, an unknown token or an unknown provider.

No event names a payment that exists, so none may move money: the fuzz test checks that no
settlement or ledger row appears.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.tap_sim.signing import tap_hashstring

BODY_LIMIT = 256 * 1024  # WASLA_MAX_BODY_BYTES's default: bigger bodies are refused unread


@dataclass(frozen=True)
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]
    kind: str  # what was generated, for the histogram


def _stripe_session(event_type: str) -> dict[str, Any]:
    session_id = "cs_test_" + secrets.token_hex(12)
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_total": 10000,
                "currency": "sar",
                "status": "complete",
                "payment_status": "paid",
                "client_reference_id": str(uuid.uuid4()),
                "payment_intent": "pi_" + secrets.token_hex(12),
                "url": None,
            }
        },
    }


def _stripe_refund() -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": "refund.updated",
        "data": {
            "object": {
                "id": "re_" + secrets.token_hex(12),
                "object": "refund",
                "amount": 3000,
                "currency": "sar",
                "status": "succeeded",
                "payment_intent": "pi_" + secrets.token_hex(12),
                "metadata": {"refund_id": str(uuid.uuid4())},
            }
        },
    }


def _stripe_intent(event_type: str) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "data": {
            "object": {
                "id": "pi_" + secrets.token_hex(12),
                "object": "payment_intent",
                "amount": 10000,
                "currency": "sar",
                "metadata": {"attempt_id": str(uuid.uuid4())},
            }
        },
    }


def _tap_charge() -> dict[str, Any]:
    return {
        "id": "chg_TS" + secrets.token_hex(10),
        "object": "charge",
        "amount": 100.0,
        "currency": "SAR",
        "status": "CAPTURED",
        "reference": {"transaction": str(uuid.uuid4()), "gateway": "", "payment": ""},
        "transaction": {"created": "1700000000000"},
    }


def _tap_refund() -> dict[str, Any]:
    return {
        "id": "re_TS" + secrets.token_hex(10),
        "object": "refund",
        "amount": 30.0,
        "currency": "SAR",
        "charge_id": "chg_TS" + secrets.token_hex(10),
        "status": "REFUNDED",
        "created": "1700000000000",
        "reference": {"merchant": str(uuid.uuid4())},
    }


TEMPLATES = {
    "stripe": [
        lambda: _stripe_session("checkout.session.completed"),
        lambda: _stripe_session("checkout.session.async_payment_succeeded"),
        lambda: _stripe_session("checkout.session.expired"),
        _stripe_refund,
        lambda: _stripe_intent("payment_intent.succeeded"),
        lambda: _stripe_intent("payment_intent.payment_failed"),
        lambda: _stripe_intent("charge.dispute.created"),
    ],
    "tap": [_tap_charge, _tap_refund],
}

# Values a broken or hostile sender puts where a field should be.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=5000),
    st.sampled_from(["", "0", "-1", "1e400", "99999999999999999999.999", "\u202e", "SAR\x00"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def _leaf_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaf_paths(v, (*prefix, k))] + [prefix]
    return [prefix]


def _replace(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(obj)
    copy[path[0]] = _replace(obj[path[0]], path[1:], value)
    return copy


def _drop(obj: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        return {k: v for k, v in obj.items() if k != path[0]}
    copy = dict(obj)
    copy[path[0]] = _drop(obj[path[0]], path[1:])
    return copy


@st.composite
def provider_event(draw: st.DrawFn, provider: str) -> dict[str, Any] | Any:
    """A provider-shaped event with a few fields changed or dropped."""
    event = draw(st.sampled_from(TEMPLATES[provider]))()
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = _leaf_paths(event) if isinstance(event, dict) else [()]
        path = draw(st.sampled_from(paths))
        if path and draw(st.booleans()):
            event = _drop(event, path)
        else:
            event = _replace(event, path, draw(ODD_VALUES))
    return event


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def body_for(draw: st.DrawFn, provider: str) -> tuple[str, bytes, Any]:
    """(kind, body bytes, the parsed event when the body is an event)."""
    choice = draw(
        st.sampled_from(
            ["event", "event", "event", "event", "bytes", "truncated", "nested", "huge", "empty"]
        )
    )
    template = provider if provider in TEMPLATES else "stripe"
    if choice == "event":
        event = draw(provider_event(template))
        return "event", _dumps(event), event
    if choice == "bytes":
        return "bytes", draw(st.binary(max_size=2000)), None
    if choice == "truncated":
        whole = _dumps(draw(provider_event(template)))
        return "truncated", whole[: draw(st.integers(1, max(1, len(whole) - 1)))], None
    if choice == "nested":
        depth = draw(st.sampled_from([63, 65, 1000, 100_000]))
        return "nested", b"[" * depth + b"]" * depth, None
    if choice == "huge":
        size = draw(st.sampled_from([BODY_LIMIT - 1000, BODY_LIMIT + 1, 4 * BODY_LIMIT]))
        event = draw(provider_event(template))
        padded = {**event, "padding": "x" * size} if isinstance(event, dict) else event
        return "huge", _dumps(padded)[: size + 200], None
    return "empty", b"", None


def _signature(
    provider: str, mode: str, body: bytes, event: Any, secrets_of: dict[str, str]
) -> dict[str, str]:
    if mode == "missing":
        return {}
    if provider != "tap":  # Stripe's header, also sent to the endpoints that expect another
        secret = secrets_of.get("stripe_webhook_secret", "")
        if mode == "valid":
            return {"Stripe-Signature": stripe_signature_header(body, secret)}
        if mode == "stale":
            return {
                "Stripe-Signature": stripe_signature_header(body, secret, int(time.time()) - 3600)
            }
        return {"Stripe-Signature": stripe_signature_header(body, "whsec_" + secrets.token_hex(16))}
    if mode == "valid" and isinstance(event, dict):
        try:
            return {"hashstring": tap_hashstring(_as_decimals(event), secrets_of["tap_secret_key"])}
        except (ValueError, TypeError, ArithmeticError, AttributeError, KeyError):
            pass  # an amount the signer cannot format: the forged signature below
    return {"hashstring": secrets.token_hex(32)}


def _as_decimals(event: dict[str, Any]) -> dict[str, Any]:
    amount = event.get("amount")
    if isinstance(amount, float):
        return {**event, "amount": Decimal(str(amount))}
    return event


@st.composite
def deliveries(draw: st.DrawFn, tenant: dict[str, Any]) -> Delivery:
    """One webhook delivery against `tenant`'s endpoints (or ones that do not exist)."""
    provider = draw(st.sampled_from(["stripe"] * 4 + ["tap"] * 3 + ["paypal", "cod", "nope"]))
    where = draw(st.sampled_from(["real"] * 6 + ["unknown token", "other provider"]))
    paths = {
        "stripe": tenant["stripe"]["webhook_path"],
        "tap": tenant["tap"]["webhook_path"],
        "cod": tenant["cod"]["webhook_path"],
    }
    if where == "real" and provider in paths:
        path = paths[provider]
    elif where == "other provider" and provider in paths:
        other = draw(st.sampled_from(sorted(set(paths) - {provider})))
        path = paths[other].replace(f"/{other}/", f"/{provider}/")
    else:
        path = f"/webhooks/{provider}/{uuid.uuid4()}/"
    if draw(st.booleans()):
        path = path.rstrip("/")
    kind, body, event = draw(body_for(provider))
    signature = draw(st.sampled_from(["valid"] * 5 + ["forged", "missing", "stale"]))
    headers = _signature(
        provider,
        signature,
        body,
        event,
        {
            "stripe_webhook_secret": tenant["stripe"]["webhook_secret"],
            "tap_secret_key": tenant["tap"]["secret_key"],
        },
    )
    content_type = draw(
        st.sampled_from(
            [
                *["application/json"] * 6,
                "application/json; charset=utf-8",
                "text/plain",
                "application/x-www-form-urlencoded",
                None,
            ]
        )
    )
    if content_type:
        headers["Content-Type"] = content_type
    return Delivery(path=path, body=body, headers=headers, kind=f"{provider}/{kind}/{signature}")
