"""Staff view of the API's idempotency records: read-only (the API writes and replays them);
the stored response is shown pretty-printed, as the merchant's client received it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly, json_display

from .models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ViewOnly, admin.ModelAdmin):
    list_display = ["key", "tenant", "method", "path", "state", "response_status", "created_at"]
    list_filter = ["tenant", "state", "method", "created_at"]
    list_select_related = ["tenant"]
    search_fields = ["key", "path"]
    fields = [
        *("tenant", "key", "method", "path", "fingerprint", "state"),
        *("response_status", "response_content_type", "response_body_pretty", "created_at"),
    ]
    readonly_fields = ["response_body_pretty"]

    response_body_pretty = json_display("response_body", description=_("response body"))
