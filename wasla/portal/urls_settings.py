"""The portal's settings pages: gateways, API tokens, team."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
