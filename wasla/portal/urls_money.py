"""The portal's money pages: overview, payments, settlements, invoices, exports."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
