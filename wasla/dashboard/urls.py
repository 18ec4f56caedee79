"""/dashboard/: Wasla staff's operations dashboard (every view through platform_access)."""

from django.urls import URLPattern, URLResolver, include, path

from . import views

app_name = "dashboard"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("payments/", views.payments, name="payments"),
    path("invoices/", views.invoices, name="invoices"),
    path("simulator/", views.simulator, name="simulator"),
    path("reconcile/", views.reconcile_run, name="reconcile"),
    path("refresh/", views.rollup_refresh_run, name="refresh"),
    path("", include("wasla.dashboard.urls_exports")),
]
