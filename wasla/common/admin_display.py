"""How every admin page shows money and JSON: one way, shared by each app's `admin.py`.

- Money goes through `money_text`, the one formatting helper: an amount is written to its
  currency's exponent (SAR 2 decimals, KWD 3) with the currency, in the active language. The
  database keeps 3 decimals for every currency, so Django's own display showed "120.000" for
  SAR; `money_display` makes a list column or a read-only detail field from an (amount field,
  currency field) pair instead.
- JSON (fee breakdowns, webhook headers and bodies, provider answers) is pretty-printed in a
  `<pre>` that wraps, left to right even on an Arabic page, never one line running off the
  screen. It shows what is stored: bodies and provider answers are scrubbed before they are
  saved (`wasla.common.scrub`), and this module adds nothing to them.
- A mapping such as a fee breakdown can be a two-column table (`key_value_table`).
- Rows only services may write (money state, issued documents, ledger rows, audit trails) are
  shown through `ViewOnly`: no add, change or delete, on a list or as an inline.

Field paths follow Django's `__` notation ("account__currency"), so a currency held by a related
row works; the admin that uses one selects that row (`list_select_related`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django_stubs_ext import StrOrPromise

from .formatting import money_text

AdminDisplay = Callable[[Any, Any], str]


class ViewOnly:
    """Mixin for a ModelAdmin or an inline: staff read, nobody adds, changes or deletes. For
    rows the database refuses to change anyway, or that only a service may move."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def value_at(obj: Any, path: str) -> Any:
    """`obj.a.b` for the path "a__b"; None as soon as a step is None."""
    value = obj
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def money_display(
    amount: str, currency: str = "currency", *, description: StrOrPromise
) -> AdminDisplay:
    """An admin column or read-only field showing `amount` in `currency` (field paths) through
    `money_text`. Assign it to a ModelAdmin attribute and name that attribute in
    `list_display` / `readonly_fields` / `fields`; it sorts by the amount field."""

    @admin.display(description=description, ordering=amount)
    def show(model_admin: Any, obj: Any) -> str:
        value = value_at(obj, amount)
        return money_text(value, value_at(obj, currency) or "") if value is not None else "—"

    show.__name__ = f"{amount}_text"
    return show


def pretty_json(value: Any) -> str:
    """Indented JSON of `value` (Decimals as strings, Arabic kept readable); a string that
    parses as JSON is indented too, any other string is shown as it is."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def json_block(value: Any) -> SafeString:
    """`pretty_json` in a wrapping, left-to-right `<pre>` (styled in admin/base_site.html)."""
    if value in (None, "", {}, []):
        return format_html("{}", "—")
    return format_html('<pre class="wasla-json" dir="ltr">{}</pre>', pretty_json(value))


def json_display(field: str, *, description: StrOrPromise) -> AdminDisplay:
    """A read-only admin field showing the JSON (or JSON text) of `field` with `json_block`."""

    @admin.display(description=description)
    def show(model_admin: Any, obj: Any) -> str:
        return json_block(value_at(obj, field))

    show.__name__ = f"{field}_pretty"
    return show


def key_value_table(rows: Iterable[tuple[StrOrPromise, Any]]) -> SafeString:
    """A two-column table (label, value) for a mapping staff read line by line."""
    cells = format_html_join(
        "", '<tr><th scope="row">{}</th><td>{}</td></tr>', ((k, _cell(v)) for k, v in rows)
    )
    return format_html('<table class="wasla-kv">{}</table>', cells)


def _cell(value: Any) -> Any:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool | str | int | Decimal | SafeString | Promise):
        return value
    return json_block(value)
