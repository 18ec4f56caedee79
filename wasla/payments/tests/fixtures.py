"""The real third-party samples in shared/fixtures (never edited)."""

import json
import os
from pathlib import Path

from django.conf import settings

SHARED = Path(os.environ.get("WASLA_SHARED_DIR", Path(settings.BASE_DIR).parent / "shared"))
FIXTURES = SHARED / "fixtures"


def stripe_object(name: str) -> dict:
    return json.loads((FIXTURES / "stripe" / "objects" / f"{name}.json").read_text())


def paypal_samples() -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted((FIXTURES / "paypal").glob("*.json"))}
