"""Fault machinery the three simulators share: the knob row, the `_control/` endpoints that read
and set it, API outages and late webhook deliveries.

Each simulator keeps its own knob row (a subclass of `FaultKnobs` with its own `webhook` modes),
its own error shapes (a `ControlDialect`) and its own held deliveries; what is common lives here:
- `api`: "ok", "error_500" (answer 500 and change nothing) or "timeout" (sleep
  `timeout_seconds`, then do the work anyway: the client gave up, the object exists all the same,
  the "unknown outcome" a reconciliation must resolve). With `api_fail_count` > 0 only that many
  more API calls suffer the fault; the one that brings the count to zero sets `api` back to "ok".
- `delay_seconds`: webhooks go out that much later, from a background thread, so the hosted page
  redirect (or the API answer) is not held up. The state they announce is committed before.
- `_control/` (GET shows the knobs, POST sets some, DELETE resets them all), `_control/flush` and
  `_control/dashboard_refund`, the same three endpoints on every simulator (`Control`).
The "hold" webhook mode and its `flush` belong to each simulator (`services.flush`), which knows
its own events; only the flush parameters are checked here.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, Generic, TypeVar

from django.db import connections, models, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

SINGLETON_ID: Final = 1
MAX_SECONDS: Final = 600.0
MAX_FAIL_COUNT: Final = 1_000_000
DEFAULT_TIMEOUT_SECONDS: Final = 5.0
FLUSH_ORDERS: Final = ("forward", "reverse")
DECIMAL_TEXT: Final = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,3})?")
KNOB_NAMES: Final = ("webhook", "delay_seconds", "api", "timeout_seconds", "api_fail_count")


class FaultKnobs(models.Model):
    """A simulator's global fault knobs: one row, id 1; no row means the defaults.

    A subclass names its webhook modes in a `Webhook` TextChoices ("send" among them, the
    default) and redeclares `webhook` with those choices.
    """

    Webhook: ClassVar[type[models.TextChoices]]

    class Api(models.TextChoices):
        OK = "ok"
        ERROR_500 = "error_500"  # answer 500 in the provider's error shape, change nothing
        TIMEOUT = "timeout"  # sleep timeout_seconds, then process the request normally

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    webhook = models.CharField(max_length=16, default="send")
    delay_seconds = models.FloatField(default=0.0)
    api = models.CharField(max_length=16, choices=Api.choices, default=Api.OK)
    timeout_seconds = models.FloatField(default=DEFAULT_TIMEOUT_SECONDS)
    # 0: the `api` fault lasts until changed; N > 0: only the next N API calls suffer it.
    api_fail_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(id=SINGLETON_ID), name="%(app_label)s_knobs_singleton"
            )
        ]

    def __str__(self) -> str:
        return f"webhook={self.webhook} api={self.api}"


KnobsT = TypeVar("KnobsT", bound=FaultKnobs)
HeldT = TypeVar("HeldT", bound=models.Model)


# Knob values -----------------------------------------------------------------------------------


def _number(value: Any, name: str) -> float:
    # A bool is an int to Python, not a number to JSON.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"{name} must be between 0 and {MAX_SECONDS:g} seconds")
    return seconds


def _one_of(value: Any, name: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


class KnobStore(Generic[KnobsT, HeldT]):
    """One simulator's knob row, and the deliveries its "hold" mode keeps back.

    `held` is the model of those deliveries, kept in the order they were held (the auto id): a
    flush claims them (`held_claim`), a reset discards them (what they announce stays
    recorded, it is just never sent). `decimals` gives the seconds as Decimals, for simulators
    whose JSON encoder refuses floats; `extra` adds simulator-specific counters to the dict.
    """

    def __init__(
        self,
        model: type[KnobsT],
        *,
        held: type[HeldT],
        decimals: bool = False,
        extra: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.held = held
        self.decimals = decimals
        self.extra = extra

    def get(self) -> KnobsT:
        """Current knobs; an unsaved default row when none was ever set."""
        return self.model._default_manager.filter(pk=SINGLETON_ID).first() or self.model()

    def set(
        self,
        *,
        webhook: Any = None,
        delay_seconds: Any = None,
        api: Any = None,
        timeout_seconds: Any = None,
        api_fail_count: Any = None,
    ) -> KnobsT:
        """Set the given knobs, leaving the others as they are; raises ValueError for a bad value
        (then nothing changes)."""
        values: dict[str, Any] = {}
        if webhook is not None:
            values["webhook"] = _one_of(webhook, "webhook", self.model.Webhook.values)
        if delay_seconds is not None:
            values["delay_seconds"] = _number(delay_seconds, "delay_seconds")
        if api is not None:
            values["api"] = _one_of(api, "api", FaultKnobs.Api.values)
        if timeout_seconds is not None:
            values["timeout_seconds"] = _number(timeout_seconds, "timeout_seconds")
        if api_fail_count is not None:
            is_integer = isinstance(api_fail_count, int) and not isinstance(api_fail_count, bool)
            if not is_integer or not 0 <= api_fail_count <= MAX_FAIL_COUNT:
                raise ValueError(f"api_fail_count must be an integer from 0 to {MAX_FAIL_COUNT}")
            values["api_fail_count"] = api_fail_count
        knobs, _ = self.model._default_manager.update_or_create(pk=SINGLETON_ID, defaults=values)
        return knobs

    def reset(self) -> KnobsT:
        """Every knob back to its default; deliveries still held are discarded."""
        self.model._default_manager.filter(pk=SINGLETON_ID).delete()
        self.held._default_manager.all().delete()
        return self.get()

    def held_claim(self, order: str) -> list[HeldT]:
        """Every held delivery, for a flush: in the order they were held ("forward") or reversed.

        The rows are claimed (deleted) in one transaction, so concurrent flushes never deliver
        one twice; the caller makes the POSTs after that commit.
        """
        flush_order_check(order)
        manager = self.held._default_manager
        with transaction.atomic():
            held = list(manager.select_for_update().order_by("id"))
            manager.filter(pk__in=[row.pk for row in held]).delete()
        if order == "reverse":
            held.reverse()
        return held

    def as_dict(self) -> dict[str, Any]:
        """The current knobs as JSON values, with how many deliveries are held."""
        knobs = self.get()

        def seconds(value: float) -> float | Decimal:
            return Decimal(str(value)) if self.decimals else value

        return {
            "webhook": knobs.webhook,
            "delay_seconds": seconds(knobs.delay_seconds),
            "api": knobs.api,
            "timeout_seconds": seconds(knobs.timeout_seconds),
            "api_fail_count": knobs.api_fail_count,
            "held": self.held._default_manager.count(),
            **(self.extra() if self.extra is not None else {}),
        }

    def api_fault(self) -> ApiFault | None:
        """The fault this API call suffers, if any, counting down a limited run atomically."""
        manager = self.model._default_manager
        # The common case, no fault, costs one read and takes no lock.
        if not manager.filter(pk=SINGLETON_ID).exclude(api=FaultKnobs.Api.OK).exists():
            return None
        with transaction.atomic():
            knobs = manager.select_for_update().filter(pk=SINGLETON_ID).first()
            if knobs is None or knobs.api == FaultKnobs.Api.OK:
                return None
            fault = ApiFault(mode=knobs.api, timeout_seconds=knobs.timeout_seconds)
            if knobs.api_fail_count > 0:
                knobs.api_fail_count -= 1
                if knobs.api_fail_count == 0:
                    knobs.api = FaultKnobs.Api.OK
                knobs.save(update_fields=["api_fail_count", "api", "updated_at"])
        return fault

    def api_fault_fails(self) -> bool:
        """Apply the `api` knob to this API call: True when it must answer 500 before anything
        happens; a "timeout" keeps the client waiting here, then lets the call through."""
        fault = self.api_fault()
        if fault is None:
            return False
        if fault.is_error:
            return True
        time.sleep(fault.timeout_seconds)
        return False


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


# The _control/ endpoints -----------------------------------------------------------------------

View = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class ControlDialect:
    """How a simulator answers on its `_control/` endpoints: its JSON and its error body."""

    # The simulator's API error; raised by the callables below, rendered by `error_response`.
    error: type[Exception]
    error_response: Callable[[Any], HttpResponse]
    # A 400: (message, the name of the field at fault when one is known).
    invalid: Callable[[str, str | None], Exception]
    method_not_allowed: Callable[[], Exception]
    # The request body as a JSON object, else `error`.
    parse_object: Callable[[bytes], dict[str, Any]]
    respond: Callable[[Any], HttpResponse]


@dataclass(frozen=True)
class Control:
    """A simulator's test controls: no key, no API faults, the simulator's own error body.

    - `_control/`: GET shows the knobs, POST `{knob: value, …}` sets some, DELETE resets them all.
    - `_control/flush` `{"order": "forward"|"reverse", "duplicate": false}`: deliver what the
      "hold" knob kept back; answers `{"sent": <how many deliveries were made>}`.
    - `_control/dashboard_refund` `{"payment": "<id>", "amount": "12.50"}`: a refund made in the
      provider's dashboard; it sends the refund webhook and answers the refund object.
    """

    knobs: KnobStore[Any, Any]
    dialect: ControlDialect
    flush: Callable[..., int]
    dashboard_refund: Callable[[HttpRequest, str, Decimal | None], dict[str, Any]]

    def urlpatterns(self) -> list[URLPattern]:
        return [
            path("_control/", self._view(self._knobs, "GET", "POST", "DELETE"), name="control"),
            re_path(r"^_control/flush/?$", self._view(self._flush, "POST"), name="control-flush"),
            re_path(
                r"^_control/dashboard_refund/?$",
                self._view(self._dashboard_refund, "POST"),
                name="control-dashboard-refund",
            ),
        ]

    def _view(self, handle: Callable[[HttpRequest], Any], *methods: str) -> View:
        dialect = self.dialect

        @csrf_exempt
        @functools.wraps(handle)
        def view(request: HttpRequest) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise dialect.method_not_allowed()
                return dialect.respond(handle(request))
            except dialect.error as exc:
                response = dialect.error_response(exc)
                if response.status_code == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return view

    def _object(self, request: HttpRequest, *, allow_empty: bool = False) -> dict[str, Any]:
        if allow_empty and not request.body.strip():
            return {}
        return self.dialect.parse_object(request.body)

    def _knobs(self, request: HttpRequest) -> dict[str, Any]:
        if request.method == "POST":
            data = self._object(request)
            unknown = sorted(set(data) - set(KNOB_NAMES))
            if unknown:
                raise self.dialect.invalid(f"Unknown knobs: {', '.join(unknown)}", unknown[0])
            values = {name: data[name] for name in KNOB_NAMES if data.get(name) is not None}
            try:
                self.knobs.set(**values)
            except (ValueError, TypeError) as exc:
                raise self.dialect.invalid(str(exc), None) from None
        elif request.method == "DELETE":
            self.knobs.reset()
        return self.knobs.as_dict()

    def _flush(self, request: HttpRequest) -> dict[str, Any]:
        try:
            order, duplicate = flush_params(self._object(request, allow_empty=True))
        except ValueError as exc:
            raise self.dialect.invalid(str(exc), None) from None
        return {"sent": self.flush(order=order, duplicate=duplicate)}

    def _dashboard_refund(self, request: HttpRequest) -> dict[str, Any]:
        try:
            payment, amount = dashboard_params(self._object(request))
        except ValueError as exc:
            raise self.dialect.invalid(str(exc), None) from None
        return self.dashboard_refund(request, payment, amount)


# API faults ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiFault:
    """What the current API call suffers: a 500, or a sleep before it is served normally."""

    mode: str
    timeout_seconds: float

    @property
    def is_error(self) -> bool:
        return self.mode == FaultKnobs.Api.ERROR_500


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
