"""Provider simulators, mounted at /sandbox/ only when WASLA_SANDBOX is on."""

from django.urls import include, path

urlpatterns = [
    path("tap/", include("sandbox.tap_sim.urls")),
    path("stripe/", include("sandbox.stripe_sim.urls")),
    path("paypal/", include("sandbox.paypal_sim.urls")),
    path("zatca/", include("sandbox.zatca_sim.urls")),
]
