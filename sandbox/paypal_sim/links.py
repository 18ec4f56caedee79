"""Absolute URLs of the simulator's resources, as PayPal puts them in `links[].href`.

Built from the host the current request came in on, so the links work for whoever is asking.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Urls:
    origin: str  # "http://127.0.0.1:8000", no trailing slash

    def _absolute(self, name: str, *args: str) -> str:
        return self.origin + reverse(f"sandbox_paypal:{name}", args=args)

    def order(self, order_id: str) -> str:
        return self._absolute("order", order_id)

    def order_capture(self, order_id: str) -> str:
        return self._absolute("order_capture", order_id)

    def checkout(self, order_id: str) -> str:
        return self._absolute("checkout", order_id)

    def capture(self, capture_id: str) -> str:
        return self._absolute("capture", capture_id)

    def capture_refund(self, capture_id: str) -> str:
        return self._absolute("capture_refund", capture_id)

    def refund(self, refund_id: str) -> str:
        return self._absolute("refund", refund_id)

    def webhook(self, webhook_id: str) -> str:
        return self._absolute("webhook", webhook_id)

    def event(self, event_id: str) -> str:
        return self._absolute("event", event_id)

    def event_resend(self, event_id: str) -> str:
        return self._absolute("event_resend", event_id)

    def certificate(self, cert_id: str) -> str:
        return self._absolute("certificate", cert_id)


def urls_for(request: HttpRequest) -> Urls:
    return Urls(origin=f"{request.scheme}://{request.get_host()}")
