from django.apps import AppConfig


class TapSimConfig(AppConfig):
    name = "sandbox.tap_sim"
    label = "sandbox_tap"
