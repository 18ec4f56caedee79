"""Settings of the stack's processes under the chaos suite: the stack's own settings (the module
named by WASLA_CHAOS_BASE_SETTINGS, production's by default), plus the crash points of
chaos/faults.py. Those do nothing until WASLA_CHAOS_DIR names the directory the test arms them
in, and only in gunicorn and Celery worker processes.

Everything else (the sweeper's pace, retry delays, the broker's visibility timeout) the test
sets through the environment variables base.py already reads, so the product behaves as in
production, only on a shorter clock.
"""

from __future__ import annotations

import importlib
import os

_base = importlib.import_module(
    os.environ.get("WASLA_CHAOS_BASE_SETTINGS", "config.settings.production")
)
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "chaos.faults.ChaosFaultsConfig"]
# Outermost, so it sees the finished response just before it goes back to the client.
MIDDLEWARE = ["chaos.faults.crash_middleware", *_base.MIDDLEWARE]

# A provider that hangs is given up on after WASLA_CHAOS_PROVIDER_READ_TIMEOUT seconds instead of
# production's 20, so a run can show timeouts opening the circuit within seconds.
if os.environ.get("WASLA_CHAOS_PROVIDER_READ_TIMEOUT"):
    WASLA_PROVIDER_TIMEOUTS = {
        **_base.WASLA_PROVIDER_TIMEOUTS,
        "read": float(os.environ["WASLA_CHAOS_PROVIDER_READ_TIMEOUT"]),
    }
