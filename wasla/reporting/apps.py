from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "wasla.reporting"
    label = "reporting"
    verbose_name = "Reporting"
