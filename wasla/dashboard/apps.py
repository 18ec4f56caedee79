from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Wasla staff's operations dashboard at /dashboard/, across every tenant (audited)."""

    name = "wasla.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        # Observability: the platform's gauges (backlogs, invoices, ZATCA, circuits) at scrape.
        from wasla.common.observability.metrics import scrape_collector_add

        from .metrics import PlatformCollector

        scrape_collector_add(PlatformCollector())
