"""Idempotency records of the merchant API.

One row per (tenant, Idempotency-Key): inserted before the request runs (so a concurrent
duplicate sees it and answers 409), completed with the response that is replayed afterwards.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wasla.tenants.models import TenantOwned


class IdempotencyRecord(TenantOwned):
    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_key_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.state}"
