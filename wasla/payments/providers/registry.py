"""Providers by name: built-ins from settings, third-party ones from entry points."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BasePaymentProvider

ENTRY_POINT_GROUP = "wasla.payment_providers"


class UnknownProvider(LookupError):
    pass


@cache
def _providers() -> dict[str, type[BasePaymentProvider]]:
    found: dict[str, type[BasePaymentProvider]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    for name, dotted in settings.WASLA_PAYMENT_PROVIDERS.items():
        found[name] = import_string(dotted)  # built-ins win over plug-ins of the same name
    for name, cls in found.items():
        if not issubclass(cls, BasePaymentProvider):
            raise TypeError(f"payment provider {name!r} is not a BasePaymentProvider")
    return found


def provider_class(name: str) -> type[BasePaymentProvider]:
    try:
        return _providers()[name]
    except KeyError:
        raise UnknownProvider(name) from None


def provider_names() -> list[str]:
    return sorted(_providers())


def clear_cache() -> None:
    _providers.cache_clear()
