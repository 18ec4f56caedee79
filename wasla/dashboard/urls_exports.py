"""Staff CSV downloads (include from wasla/dashboard/urls.py)."""

from django.urls import path

from . import exports

urlpatterns = [
    path("export/<slug:dataset>.csv", exports.export_csv, name="export"),
]
