from django.urls import path, re_path

from sandbox.tap_sim import views

app_name = "sandbox_tap"

# The real client calls `{base}/v2/charges` without a trailing slash; both spellings work.
urlpatterns = [
    re_path(r"^v2/charges/?$", views.charges_api, name="charges"),
    re_path(r"^v2/charges/(?P<charge_id>[^/]+)/?$", views.charge_api, name="charge"),
    re_path(r"^v2/refunds/?$", views.refunds_api, name="refunds"),
    re_path(r"^v2/refunds/(?P<refund_id>[^/]+)/?$", views.refund_api, name="refund"),
    path("pay/<str:charge_id>/", views.pay_page, name="pay"),
    path("pay/<str:charge_id>/3ds/", views.threeds_page, name="3ds"),
    *views.control.urlpatterns(),
]
