"""The tenant admin: the tax profile grouped as an invoice prints it, the team inline, the
profile's validators refusing malformed values, tokens shown by prefix only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from testsupport.factories import make_tenant
from testsupport.invoicing import make_invoiceable_tenant
from wasla.tenants.models import PlatformAccessLog, Tenant, TenantMember
from wasla.tenants.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(admin_client):
    admin_client.cookies["wasla_language"] = "en"
    return admin_client


def test_the_tenant_page_groups_the_tax_profile_and_lists_the_team(english):
    tenant = make_invoiceable_tenant()
    user = get_user_model().objects.create_user("sara")
    TenantMember.objects.create(tenant=tenant, user=user, role=TenantMember.Role.FINANCE)

    page = english.get(f"/admin/tenants/tenant/{tenant.pk}/change/").text

    tax = page.index("<h2")  # fieldsets in order: identity, tax profile, national address
    assert page.index("Tax profile", tax) < page.index('name="vat_number"')
    assert page.index('name="vat_number"') < page.index("National address")
    assert page.index("National address") < page.index('name="building_number"')
    assert "team members" in page.lower()
    member_input = re.search(r'<input[^>]*name="members-0-user"[^>]*>', page)
    assert member_input is not None
    assert f'value="{user.pk}"' in member_input.group(0)
    assert 'value="finance" selected' in page


def test_a_team_member_is_added_on_the_tenant_page(english):
    tenant = make_tenant()
    user = get_user_model().objects.create_user("omar")
    form = {
        "name": tenant.name,
        "slug": tenant.slug,
        "is_active": "on",
        "country_code": "SA",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-0-user": str(user.pk),
        "members-0-role": "viewer",
    }

    response = english.post(f"/admin/tenants/tenant/{tenant.pk}/change/", form)

    assert response.status_code == 302
    member = TenantMember.objects.get(user=user)
    assert (member.tenant_id, member.role) == (tenant.pk, "viewer")


def test_a_malformed_vat_number_is_refused(english):
    tenant = make_tenant()
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    form = {
        "name": tenant.name,
        "slug": tenant.slug,
        "is_active": "on",
        "vat_number": "12345",
        "country_code": "SA",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }

    response = english.post(url, form)

    assert response.status_code == 200
    assert "A VAT registration number is 15 digits" in response.text
    assert Tenant.objects.get(pk=tenant.pk).vat_number == ""


def test_the_list_says_whose_tax_profile_is_complete(english):
    complete, incomplete = make_invoiceable_tenant(), make_tenant()

    page = english.get("/admin/tenants/tenant/").text

    assert complete.slug in page
    assert incomplete.slug in page
    assert 'alt="True"' in page
    assert 'alt="False"' in page


def test_api_tokens_show_their_prefix_never_the_digest(english, tenant):
    token, plaintext = api_token_create(tenant=tenant, name="shop")

    listing = english.get("/admin/tenants/apitoken/").text
    page = english.get(f"/admin/tenants/apitoken/{token.pk}/change/").text

    assert token.prefix in listing
    for shown in (listing, page):
        assert token.digest not in shown
        assert plaintext not in shown
    assert english.get("/admin/tenants/apitoken/add/").status_code == 403


def test_the_access_log_is_evidence_nobody_edits(english):
    english.get("/admin/")
    page = english.get("/admin/tenants/platformaccesslog/").text
    entry = PlatformAccessLog.objects.get(reason="admin GET /admin/")

    assert "admin GET /admin/" in page
    url = f"/admin/tenants/platformaccesslog/{entry.pk}"
    assert english.get(f"{url}/delete/").status_code == 403
    assert english.post(f"{url}/change/", {"reason": "nothing to see"}).status_code == 403
