"""Re-drive webhook events left `received`: the same sweep beat runs every 30 s.

`--inline` processes them here instead of queueing them: it needs only PostgreSQL, so it works
while Redis is down (and in the demo, where there is no beat). `--interval` repeats the sweep
until interrupted, for a host without beat.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wasla.payments.webhooks.sweep import webhook_events_sweep


class Command(BaseCommand):
    help = "Queue (or with --inline, process) the webhook events that are due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--inline", action="store_true", help="process here instead of queueing (no broker)"
        )
        parser.add_argument("--limit", type=int, default=None, help="at most this many events")
        parser.add_argument(
            "--stale-after",
            type=float,
            default=None,
            metavar="SECONDS",
            help="sweep events received this long ago with nothing scheduled "
            "(default WASLA_WEBHOOK_SWEEP_STALE_SECONDS)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            metavar="SECONDS",
            help="sweep again every SECONDS until interrupted",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = options["stale_after"]
        while True:
            swept = webhook_events_sweep(
                inline=options["inline"],
                limit=options["limit"],
                stale_after=timedelta(seconds=stale) if stale is not None else None,
            )
            verb = "processed" if options["inline"] else "queued"
            if options["interval"] is None:
                self.stdout.write(f"{len(swept)} webhook event(s) {verb}")
                return
            if swept:  # repeating: say something only when there was something to do
                self.stdout.write(f"{len(swept)} webhook event(s) {verb}")
                self.stdout.flush()
            time.sleep(options["interval"])
