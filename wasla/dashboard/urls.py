"""/dashboard/: Wasla staff's operations dashboard (every view through platform_access)."""

from django.urls import URLPattern

app_name = "dashboard"

urlpatterns: list[URLPattern] = []
