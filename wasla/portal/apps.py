from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The merchant portal at /merchant/: a tenant's team sees and runs its own payments."""

    name = "wasla.portal"
    label = "portal"
