from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "wasla.common"
    label = "common"
