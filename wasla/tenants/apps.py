from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "wasla.tenants"
    label = "tenants"
