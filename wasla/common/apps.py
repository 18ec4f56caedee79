from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "wasla.common"
    label = "common"

    def ready(self) -> None:
        from django.conf import settings

        from . import staff_session  # noqa: F401  (connects the staff sign-in receiver)
        from .observability.celery_context import celery_context_connect
        from .observability.sentry import sentry_init

        # The log context (request id, tenant, payment, webhook event) follows Celery tasks.
        celery_context_connect()
        # Error reports only when SENTRY_DSN is set (scrubbed: observability/sentry.py).
        sentry_init(
            dsn=getattr(settings, "SENTRY_DSN", ""),
            environment=getattr(settings, "SENTRY_ENVIRONMENT", "production"),
            release=getattr(settings, "SENTRY_RELEASE", None) or None,
            traces_sample_rate=getattr(settings, "SENTRY_TRACES_SAMPLE_RATE", 0.0),
        )
