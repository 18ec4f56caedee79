"""`manage.py purge_personal_data [--older-than DAYS] [--dry-run]`: shoppers' personal data
older than the retention period anonymised in place, the financial records kept (Saudi PDPL;
see wasla/api/personal_data.py and README "Personal data (PDPL)"). DAYS defaults to
WASLA_PERSONAL_DATA_RETENTION_DAYS. Prints, per kind of row, how many were examined and
anonymised."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from wasla.api.personal_data import DEFAULT_BATCH_SIZE, personal_data_purge

MAX_DAYS = 36_500  # a century: more is no retention period, and past year 1 no date at all
MAX_BATCH_SIZE = 100_000  # rows one transaction anonymises at most


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give a number of days >= 0")
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value} days is more than {MAX_DAYS} (a century)")
    return value


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the batch size must be at least 1")
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"the batch size must be at most {MAX_BATCH_SIZE}")
    return value


class Command(BaseCommand):
    help = "Anonymise shoppers' personal data older than the retention period (PDPL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=_whole_number,
            metavar="DAYS",
            help="retention period in days (default: WASLA_PERSONAL_DATA_RETENTION_DAYS)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, change nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=DEFAULT_BATCH_SIZE,
            help="rows per transaction",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days is None:
            days = settings.WASLA_PERSONAL_DATA_RETENTION_DAYS
        report = personal_data_purge(
            older_than_days=days,
            now=timezone.now(),
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            actor="manage.py purge_personal_data",
        )
        verb = "would be anonymised" if report.dry_run else "anonymised"
        self.stdout.write(
            f"personal data older than {days} days (before {report.cutoff:%Y-%m-%d %H:%M %Z}):"
        )
        for label, examined in report.examined.items():
            self.stdout.write(
                f"  {label}: {report.anonymised[label]} {verb} of {examined} examined"
            )
        total = sum(report.anonymised.values())
        self.stdout.write(
            f"total: {total} {verb}" + (" (dry run: nothing changed)" if report.dry_run else "")
        )
