"""The default fee plan exists in every migrated database.

Migration 0004 creates "standard" v1; this post_migrate handler puts it back in a database that
was flushed since (`manage.py flush`, the test suite's transactional tests), as
django.contrib.sites does for its default Site. It never touches an existing version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, router

from .models import DEFAULT_PLAN_CODE

DEFAULT_PLAN_TERMS: dict[str, Any] = {
    "name": "Standard",
    "currency": "SAR",
    "fixed_fee": Decimal("1.00"),
    "percentage": Decimal("0"),
    "vat_rate": Decimal("15.00"),
    "refund_policy": "percentage_back",
    "effective_from": datetime(2000, 1, 1, tzinfo=UTC),
}


def fee_plan_ensure_default(
    app_config: AppConfig,
    using: str = DEFAULT_DB_ALIAS,
    apps: Any = global_apps,
    **kwargs: Any,
) -> None:
    try:
        FeePlan = apps.get_model("settlement", "FeePlan")
    except LookupError:
        return  # migrated to before fee plans existed
    if not router.allow_migrate_model(using, FeePlan):
        return
    FeePlan.objects.using(using).get_or_create(
        code=DEFAULT_PLAN_CODE, version=1, defaults=DEFAULT_PLAN_TERMS
    )
