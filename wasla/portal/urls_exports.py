"""The merchant's CSV downloads (include from wasla/portal/urls.py)."""

from django.urls import path

from . import exports

urlpatterns = [
    path("exports/", exports.exports, name="exports"),
    path("export/<slug:dataset>.csv", exports.export_csv, name="export"),
]
