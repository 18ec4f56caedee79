"""The client's address, as the rate limits and the sign-in lock-out see it.

With no proxy in front (WASLA_TRUSTED_PROXY_COUNT = 0) it is the peer, REMOTE_ADDR, and any
X-Forwarded-For is ignored: a client could write anything there. Behind N proxies, each of
which appends the address it received the request from, the client is the N-th address from the
right of X-Forwarded-For; what lies further left was written by the client and is not trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    peer = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.WASLA_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return peer
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return peer  # not through the expected proxies: the peer is all we know
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
