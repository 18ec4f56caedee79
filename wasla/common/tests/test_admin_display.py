"""The admin's display helpers: money through `money_text`, JSON indented in a wrapping
`<pre>` and escaped, mappings as tables; and the admin frame's language switch."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from wasla.common.admin_display import json_block, key_value_table, money_display, pretty_json


def test_money_display_writes_the_currencys_decimals_in_the_active_language():
    show = money_display("amount", "order__currency", description="amount")
    sar = SimpleNamespace(amount=Decimal("120.000"), order=SimpleNamespace(currency="SAR"))
    kwd = SimpleNamespace(amount=Decimal("7.125"), order=SimpleNamespace(currency="KWD"))
    nothing = SimpleNamespace(amount=None, order=None)

    with translation.override("en"):
        assert show(None, sar) == "SAR\xa0120.00"
        assert show(None, kwd) == "KWD\xa07.125"
    with translation.override("ar"):
        assert show(None, sar).startswith("120.00\xa0ر.س.")
    assert show(None, nothing) == "—"
    assert show.admin_order_field == "amount"  # type: ignore[attr-defined]
    assert show.short_description == "amount"  # type: ignore[attr-defined]


def test_json_is_indented_escaped_and_wraps():
    block = json_block('{"b": "<script>", "a": [1, 2], "name": "متجر"}')

    assert block.startswith('<pre class="wasla-json" dir="ltr">{\n  &quot;a&quot;: [')
    assert "&lt;script&gt;" in block
    assert "<script>" not in block
    assert "متجر" in block  # Arabic kept readable, not \\u escapes
    assert json_block({}) == "—"
    assert pretty_json("not json") == "not json"


def test_a_mapping_becomes_a_table_with_nested_values_as_json():
    table = key_value_table([("fee", "SAR 1.00"), ("overrides", ["fixed_fee"]), ("cap", None)])

    assert '<th scope="row">fee</th><td>SAR 1.00</td>' in table
    assert '<pre class="wasla-json" dir="ltr">[\n  &quot;fixed_fee&quot;\n]</pre>' in table
    assert '<th scope="row">cap</th><td>—</td>' in table


@pytest.mark.django_db
def test_the_admin_login_speaks_arabic_and_offers_english(client):
    arabic = client.get("/admin/login/").text
    client.cookies["wasla_language"] = "en"
    english = client.get("/admin/login/").text

    assert '<html lang="ar" dir="rtl">' in arabic
    assert "لوحة إدارة وصلة" in arabic
    assert 'name="language" value="en"' in arabic
    assert '<html lang="en" dir="ltr">' in english
    assert "Wasla back office" in english
    assert 'name="language" value="ar"' in english


@pytest.mark.django_db
def test_the_switch_sets_the_cookie_and_returns_to_the_admin_page(admin_client):
    response = admin_client.post(
        "/i18n/setlang/", {"language": "en", "next": "/admin/payments/"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/admin/payments/"
    assert '<html lang="en" dir="ltr">' in response.text
    assert "Payment attempts" in response.text
