from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "wasla.api"
    label = "api"
