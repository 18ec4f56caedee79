"""`{% load dashboard_tags %}`: `{{ code|label:"attempt" }}` names a stored code for people."""

from __future__ import annotations

from django import template

from wasla.dashboard.labels import label as label_of

register = template.Library()


@register.filter
def label(code: str, kind: str) -> str:
    return label_of(kind, code)
