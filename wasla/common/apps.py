from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "wasla.common"
    label = "common"

    def ready(self) -> None:
        from . import staff_session  # noqa: F401  (connects the staff sign-in receiver)
