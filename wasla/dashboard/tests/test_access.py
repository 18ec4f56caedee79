"""Staff only: anonymous → the admin's sign-in, non-staff → 403; every staff request audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

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
    assert "staff" in response.content.decode() or "وصلة" in response.content.decode()
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


def test_the_views_own_platform_scope_sees_every_tenant(staff_client, book):
    """A request starts with no scope (tenant tables look empty); `staff_view` gives it the
    audited platform scope, so the list shows both tenants' payments."""
    page = staff_client.get(reverse("dashboard:payments")).content.decode()
    assert "Nakheel Dates" in page
    assert "Souq Jeddah" in page
