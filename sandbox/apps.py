from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Local simulators of the provider APIs; installed only in the demo and test settings."""

    name = "sandbox"
    label = "sandbox"
    verbose_name = "Provider sandbox"
    default_auto_field = "django.db.models.BigAutoField"
