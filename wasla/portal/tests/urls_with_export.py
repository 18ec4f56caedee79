"""The site's URLs as they will be once the exports page is merged: `portal:export` exists."""

from django.http import HttpResponse
from django.urls import include, path

from config.urls import urlpatterns as site
from wasla.portal import urls as portal

portal_with_export = [
    *portal.urlpatterns,
    path("exports/<str:dataset>.csv", lambda request, dataset: HttpResponse(), name="export"),
]

urlpatterns = [
    path("merchant/", include((portal_with_export, "portal"))),
    *site,
]
