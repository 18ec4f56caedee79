"""Provider simulators, mounted at /sandbox/ only when WASLA_SANDBOX is on."""

from django.urls import include, path

from sandbox.hosted_pages import language_set

urlpatterns = [
    # The hosted pages' own language switch (a GET link: see sandbox/hosted_pages.py).
    path("language/<str:code>/", language_set, name="sandbox-language"),
    path("tap/", include("sandbox.tap_sim.urls")),
    path("stripe/", include("sandbox.stripe_sim.urls")),
    path("paypal/", include("sandbox.paypal_sim.urls")),
    path("zatca/", include("sandbox.zatca_sim.urls")),
]
