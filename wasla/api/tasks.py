"""Beat's daily purge of shoppers' personal data past the retention period (config/celery.py)."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .personal_data import personal_data_purge


@shared_task(name="api.purge_personal_data")
def purge_personal_data() -> dict[str, int]:
    report = personal_data_purge(
        older_than_days=settings.WASLA_PERSONAL_DATA_RETENTION_DAYS,
        now=timezone.now(),
        actor="beat: api.purge_personal_data",
    )
    return report.anonymised
