"""Staff only: anonymous → the admin's sign-in, non-staff → 403; every staff request audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from wasla.tenants.context import no_scope, platform_access
from wasla.tenants.models import PlatformAccessLog

pytestmark = pytest.mark.django_db

PAGES = ["dashboard:home", "dashboard:payments", "dashboard:invoices", "dashboard:simulator"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_the_admin_sign_in(name):
    url = reverse(name)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_a_logged_in_merchant_without_staff_is_refused(merchant_client, name):
    before = PlatformAccessLog.objects.count()
    response = merchant_client.get(reverse(name))
    assert response.status_code == 403
    assert "Wasla staff only" in response.content.decode() or response.content
    assert PlatformAccessLog.objects.count() == before


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dashboard:home", "dashboard home"),
        ("dashboard:payments", "dashboard payments"),
        ("dashboard:invoices", "dashboard invoices"),
        ("dashboard:simulator", "dashboard simulator"),
    ],
)
def test_each_staff_request_leaves_one_platform_access_row(staff_client, name, reason):
    before = PlatformAccessLog.objects.count()
    assert staff_client.get(reverse(name)).status_code == 200
    logs = PlatformAccessLog.objects.order_by("-pk")
    assert logs.count() == before + 1
    assert (logs[0].reason, logs[0].actor) == (reason, "ops")


def test_the_reconcile_button_is_post_only_and_staff_only(staff_client, merchant_client):
    url = reverse("dashboard:reconcile")
    assert staff_client.get(url).status_code == 405
    assert merchant_client.post(url).status_code == 403
    response = staff_client.post(url)
    assert response.status_code == 302
    assert response["Location"].endswith("#reconciliation")


def test_platform_access_is_what_lets_the_page_see_tenants(staff_client, book):
    """The view's own platform scope reads every tenant: the request starts with none."""
    with no_scope(), platform_access(reason="check", actor="pytest"):
        pass
    page = staff_client.get(reverse("dashboard:payments")).content.decode()
    assert "Nakheel Dates" in page
    assert "Souq Jeddah" in page
