"""The demo's seeding as a newcomer runs it: `manage.py seed_demo --json`, read back."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

from django.core.management import call_command


def seed_demo_json() -> dict[str, Any]:
    """What `manage.py seed_demo --json` prints, parsed."""
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return dict(json.loads(out.getvalue()))
