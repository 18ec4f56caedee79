"""The checkout's missing steps, without a browser: cash on delivery asks whom and where to
deliver (validated, stored on the order), and a payment that ended unpaid offers another
method for the same order. Pages answer in Arabic unless the shopper picked English."""

from __future__ import annotations

from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client

from testsupport.factories import make_cod_config, make_tap_config, make_tenant
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt
from wasla.payments.tests.hosted import parse_forms, pay_on_hosted_page
from wasla.storefront.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "Al Olaya, King Fahd Road, Building 7421, Riyadh 12214"


@pytest.fixture
def store():
    tenant = make_tenant("nakheel-steps")
    tenant.name = "Nakheel Dates"
    tenant.save()
    make_cod_config(tenant)
    product = Product.objects.create(
        tenant=tenant, name="Sukkari dates, 1 kg", description="Soft.", price=Decimal("85.00")
    )
    return tenant, product


def _url(tenant, product) -> str:
    return f"/store/{tenant.slug}/products/{product.pk}/"


def test_cash_on_delivery_needs_a_name_and_an_address(store):
    tenant, product = store
    client = Client()
    refused = client.post(_url(tenant, product), {"payment": "cod:cod", "delivery_address": "x"})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "يتطلب الدفع عند الاستلام اسم مستلم الطلب." in page
    assert "أدخل عنوان التوصيل: الحي والشارع ورقم المبنى والمدينة." in page
    assert 'aria-invalid="true"' in page
    assert not Order.objects.exists()

    client.cookies["wasla_language"] = "en"
    refused = client.post(_url(tenant, product), {"payment": "cod:cod", "customer_name": "S"})
    assert refused.status_code == 422
    assert b"Cash on delivery needs the name of the person receiving." in refused.content
    assert b'value="S"' in refused.content  # what the shopper typed stays in the form
    assert not Order.objects.exists()

    placed = client.post(
        _url(tenant, product),
        {
            "payment": "cod:cod",
            "customer_name": "  Sara   Alqahtani ",
            "delivery_address": f"  {ADDRESS}\n",
            "phone": "0557877988",
        },
    )
    assert placed.status_code == 302
    order = Order.objects.get()
    assert (order.customer_name, order.delivery_address) == ("Sara Alqahtani", ADDRESS)
    assert order.customer_phone == "0557877988"
    page = client.get(placed.headers["location"])
    assert 'data-status="pending"' in page.content.decode()
    assert b"Pay on delivery" in page.content
    assert "SAR\u00a085.00" in page.content.decode()


def test_a_bad_email_or_phone_is_a_clear_error_and_no_order(store):
    tenant, product = store
    client = Client()
    refused = client.post(
        _url(tenant, product),
        {
            "payment": "cod:cod",
            "customer_name": "Sara",
            "delivery_address": ADDRESS,
            "email": "not-an-email",
            "phone": "call me",
        },
    )
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "أدخل بريدًا إلكترونيًا صحيحًا" in page
    assert "أدخل رقم جوال صحيحًا" in page
    assert not Order.objects.exists()


def test_a_declined_payment_offers_another_method_for_the_same_order(store, sandbox):
    tenant, product = store
    make_tap_config(tenant)
    client = Client()
    placed = client.post(_url(tenant, product), {"payment": "tap:mada", "email": "b@example.com"})
    assert placed.status_code == 302, placed.content
    declined = pay_on_hosted_page(placed.headers["location"], "decline")
    assert 'data-status="failed"' in declined.text
    assert "جرّب وسيلة دفع أخرى" in declined.text
    order = Order.objects.get()
    retry_link = unescape(declined.text.split('id="try-another" href="')[1].split('"')[0])
    assert urlsplit(retry_link).query == f"order={order.id}"

    client.cookies["wasla_language"] = "en"
    retry = client.get(urlsplit(retry_link).path + "?" + urlsplit(retry_link).query)
    assert retry.status_code == 200
    page = retry.content.decode()
    assert f"Your payment for order {order.reference} did not go through" in page
    # The method that failed is offered last; the first other one is chosen.
    assert page.index('value="cod:cod"') < page.index('value="tap:mada"')
    [form] = parse_forms(page)
    assert form["fields"]["order"] == str(order.id)

    paid_by_cod = client.post(
        _url(tenant, product),
        {
            "payment": "cod:cod",
            "order": str(order.id),
            "customer_name": "Sara",
            "delivery_address": ADDRESS,
        },
    )
    assert paid_by_cod.status_code == 302
    assert Order.objects.count() == 1  # the same order, a second attempt
    attempts = PaymentAttempt.objects.filter(order=order).order_by("created_at")
    assert [(a.provider, a.status) for a in attempts] == [("tap", "failed"), ("cod", "pending")]
    order.refresh_from_db()
    assert (order.customer_name, order.delivery_address) == ("Sara", ADDRESS)

    # The order has a payment under way now: its link no longer retries, and a replayed form
    # is refused without creating anything.
    again = client.post(
        _url(tenant, product),
        {
            "payment": "cod:cod",
            "order": str(order.id),
            "customer_name": "S",
            "delivery_address": ADDRESS,
        },
    )
    assert again.status_code == 409
    assert b"already paid or its payment is still under way" in again.content
    assert (Order.objects.count(), PaymentAttempt.objects.count()) == (1, 2)


def test_a_bad_order_parameter_shows_the_plain_product_page(store):
    tenant, product = store
    client = Client()
    for value in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        page = client.get(_url(tenant, product), {"order": value})
        assert page.status_code == 200
        assert b"retry-notice" not in page.content
