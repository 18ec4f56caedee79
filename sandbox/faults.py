"""Fault machinery the three simulators share: API outages and late webhook deliveries.

Each simulator keeps its own knob row (a subclass of `FaultKnobs`) and its own error shapes; what
is common lives here:
- `api`: "ok", "error_500" (answer 500 and change nothing) or "timeout" (sleep
  `timeout_seconds`, then do the work anyway: the client gave up, the object exists all the same,
  the "unknown outcome" a reconciliation must resolve). With `api_fail_count` > 0 only that many
  more API calls suffer the fault; the one that brings the count to zero sets `api` back to "ok".
- `delay_seconds`: webhooks go out that much later, from a background thread, so the hosted page
  redirect (or the API answer) is not held up. The state they announce is committed before.
The "hold" webhook mode and its `flush` belong to each simulator (`services.flush`), which knows
its own events; only the flush parameters are checked here.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from django.db import connections, models, transaction

logger = logging.getLogger(__name__)

SINGLETON_ID: Final = 1
MAX_SECONDS: Final = 600.0
MAX_FAIL_COUNT: Final = 1_000_000
DEFAULT_TIMEOUT_SECONDS: Final = 5.0
FLUSH_ORDERS: Final = ("forward", "reverse")
DECIMAL_TEXT: Final = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,3})?")


class FaultKnobs(models.Model):
    """The fault knobs every simulator has besides its own `webhook` modes."""

    class Api(models.TextChoices):
        OK = "ok"
        ERROR_500 = "error_500"  # answer 500 in the provider's error shape, change nothing
        TIMEOUT = "timeout"  # sleep timeout_seconds, then process the request normally

    delay_seconds = models.FloatField(default=0.0)
    api = models.CharField(max_length=16, choices=Api.choices, default=Api.OK)
    timeout_seconds = models.FloatField(default=DEFAULT_TIMEOUT_SECONDS)
    # 0: the `api` fault lasts until changed; N > 0: only the next N API calls suffer it.
    api_fail_count = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


KnobsT = TypeVar("KnobsT", bound=FaultKnobs)


# Knob values -----------------------------------------------------------------------------------


def _number(value: Any, name: str) -> float:
    # A bool is an int to Python, not a number to JSON.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"{name} must be between 0 and {MAX_SECONDS:g} seconds")
    return seconds


def fault_values(
    *,
    delay_seconds: Any = None,
    api: Any = None,
    timeout_seconds: Any = None,
    api_fail_count: Any = None,
) -> dict[str, Any]:
    """The given fault knobs, checked, as model field values; raises ValueError for a bad one."""
    values: dict[str, Any] = {}
    if delay_seconds is not None:
        values["delay_seconds"] = _number(delay_seconds, "delay_seconds")
    if api is not None:
        if api not in FaultKnobs.Api.values:
            raise ValueError(f"api must be one of {', '.join(FaultKnobs.Api.values)}")
        values["api"] = api
    if timeout_seconds is not None:
        values["timeout_seconds"] = _number(timeout_seconds, "timeout_seconds")
    if api_fail_count is not None:
        is_integer = isinstance(api_fail_count, int) and not isinstance(api_fail_count, bool)
        if not is_integer or not 0 <= api_fail_count <= MAX_FAIL_COUNT:
            raise ValueError(f"api_fail_count must be an integer from 0 to {MAX_FAIL_COUNT}")
        values["api_fail_count"] = api_fail_count
    return values


def fault_knobs_as_dict(knobs: FaultKnobs, *, decimals: bool = False) -> dict[str, Any]:
    """The fault knobs as JSON values; `decimals` gives the seconds as Decimals, for the Tap and
    PayPal encoders, which refuse floats."""

    def seconds(value: float) -> float | Decimal:
        return Decimal(str(value)) if decimals else value

    return {
        "delay_seconds": seconds(knobs.delay_seconds),
        "api": knobs.api,
        "timeout_seconds": seconds(knobs.timeout_seconds),
        "api_fail_count": knobs.api_fail_count,
    }


def flush_params(data: dict[str, Any]) -> tuple[str, bool]:
    """`{"order": "forward"|"reverse", "duplicate": bool}` of a flush request, both optional."""
    unknown = sorted(set(data) - {"order", "duplicate"})
    if unknown:
        raise ValueError(f"Unknown flush parameters: {', '.join(unknown)}")
    order = data.get("order", "forward")
    flush_order_check(order)
    duplicate = data.get("duplicate", False)
    if not isinstance(duplicate, bool):
        raise ValueError("duplicate must be true or false")
    return order, duplicate


def flush_order_check(order: Any) -> None:
    if order not in FLUSH_ORDERS:
        raise ValueError("order must be forward or reverse")


def dashboard_params(data: dict[str, Any]) -> tuple[str, Decimal | None]:
    """`{"payment": "<id>", "amount": "12.50"}` of a dashboard refund; no amount = the rest."""
    unknown = sorted(set(data) - {"payment", "amount"})
    if unknown:
        raise ValueError(f"Unknown dashboard_refund parameters: {', '.join(unknown)}")
    payment = data.get("payment")
    if not isinstance(payment, str) or not payment or len(payment) > 255:
        raise ValueError("payment must be the id of a payment")
    if not payment.isascii() or not payment.isprintable():
        raise ValueError("payment must be the id of a payment")
    raw = data.get("amount")
    if raw is None:
        return payment, None
    # A decimal string as the brief gives it; a JSON number is taken too, for convenience.
    text = str(raw) if isinstance(raw, int | Decimal) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not DECIMAL_TEXT.fullmatch(text):
        raise ValueError('amount must be a decimal string such as "12.50"')
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError('amount must be a decimal string such as "12.50"') from None
    if amount <= 0:
        raise ValueError("amount must be greater than zero")
    return payment, amount


# API faults ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiFault:
    """What the current API call suffers: a 500, or a sleep before it is served normally."""

    mode: str
    timeout_seconds: float

    @property
    def is_error(self) -> bool:
        return self.mode == FaultKnobs.Api.ERROR_500


def api_fault_take(model: type[KnobsT]) -> ApiFault | None:
    """The fault this API call suffers, if any, counting down a limited run atomically."""
    # The common case, no fault, costs one read and takes no lock.
    if not model._default_manager.filter(pk=SINGLETON_ID).exclude(api=FaultKnobs.Api.OK).exists():
        return None
    with transaction.atomic():
        knobs = model._default_manager.select_for_update().filter(pk=SINGLETON_ID).first()
        if knobs is None or knobs.api == FaultKnobs.Api.OK:
            return None
        fault = ApiFault(mode=knobs.api, timeout_seconds=knobs.timeout_seconds)
        if knobs.api_fail_count > 0:
            knobs.api_fail_count -= 1
            if knobs.api_fail_count == 0:
                knobs.api = FaultKnobs.Api.OK
            knobs.save(update_fields=["api_fail_count", "api", "updated_at"])
    return fault


def api_fault_wait(fault: ApiFault) -> None:
    """The "timeout" fault: keep the client waiting, then let the request through."""
    time.sleep(fault.timeout_seconds)


# Late deliveries -------------------------------------------------------------------------------


def run_later(*, delay_seconds: float, label: str, work: Callable[[], object]) -> None:
    """Run `work` after `delay_seconds` on a daemon thread with its own database connection."""

    def run() -> None:
        try:
            time.sleep(delay_seconds)
            work()
        except Exception:
            logger.exception("sandbox delayed delivery %s failed", label)
        finally:
            # The thread's connection is its own; leaving it open would leak it.
            connections.close_all()

    threading.Thread(target=run, name=f"sandbox-delay-{label}", daemon=True).start()
