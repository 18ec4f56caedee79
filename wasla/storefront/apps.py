from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "wasla.storefront"
    label = "storefront"
