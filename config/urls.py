from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from wasla.api.docs import ApiDocsView
from wasla.common import health
from wasla.common.observability.views import metrics_view
from wasla.storefront.landing import landing

urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switch on every page posts here (Django's set_language: a cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI from drf-spectacular-sidecar's static files, its start-up script with the CSP
    # nonce. (Not ReDoc: its page loads Google Fonts from their CDN.)
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("wasla.api.urls")),
    # Before the merchant webhooks: /webhooks/billing/stripe/ is Wasla's own Stripe account.
    path("", include("wasla.invoicing.urls")),
    path("", include("wasla.payments.urls")),
    path("store/", include("wasla.storefront.urls")),
    path("merchant/", include("wasla.portal.urls")),
    path("dashboard/", include("wasla.dashboard.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, behind WASLA_METRICS_TOKEN (404 without one set, 401 without it sent).
    path("metrics", metrics_view, name="metrics"),
    path("", landing, name="landing"),
]

handler404 = "wasla.common.problems.page_not_found"
handler500 = "wasla.common.outage.server_error"

if settings.WASLA_SANDBOX:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
