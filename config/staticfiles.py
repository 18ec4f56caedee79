"""The static files app as production collects it: without ReDoc's bundle (drf-spectacular's
sidecar ships it; /api/docs/ is Swagger UI only, see config/urls.py), whose 5 MB would only
slow `collectstatic` down."""

from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig


class StaticFilesConfig(DjangoStaticFilesConfig):
    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, "redoc"]
