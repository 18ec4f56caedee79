from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Wasla staff's operations dashboard at /dashboard/, across every tenant (audited)."""

    name = "wasla.dashboard"
    label = "dashboard"
