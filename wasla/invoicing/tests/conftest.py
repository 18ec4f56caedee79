"""Fixtures of the invoicing tests: Wasla's own Stripe account on the sandbox (live server)."""

from __future__ import annotations

import pytest

from testsupport.billing import billing_on_sandbox


@pytest.fixture
def billing(sandbox: str, settings) -> str:  # type: ignore[no-untyped-def]
    """Billing on the sandbox, its webhook registered; returns the live server's base URL."""
    billing_on_sandbox(sandbox, settings)
    return sandbox
