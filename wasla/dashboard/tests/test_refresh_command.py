"""`manage.py dashboard_refresh`: what beat does, at once (the demo has no beat)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from wasla.dashboard.models import PaymentDayTotal, RollupRun
from wasla.dashboard.selectors import RECONCILE_CACHE_KEY
from wasla.dashboard.tests.books import build_book
from wasla.tenants.context import platform_access

pytestmark = pytest.mark.django_db


def test_the_command_builds_the_rollups_and_the_reconciliation_snapshot() -> None:
    build_book()
    out = StringIO()
    call_command("dashboard_refresh", stdout=out)
    assert "roll-ups from" in out.getvalue()
    with platform_access(reason="test assertions"):
        assert RollupRun.objects.count() == 1
        assert PaymentDayTotal.objects.exists()
    assert cache.get(RECONCILE_CACHE_KEY) is not None
