from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "wasla.orders"
    label = "orders"
