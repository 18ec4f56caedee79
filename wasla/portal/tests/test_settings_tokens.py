"""The portal's API token pages (owners only): the plaintext is shown once, on the page after
creating it, and never again; revoking asks first; another tenant's token is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testsupport.factories import make_tenant
from wasla.portal.tests.settings_support import client_for
from wasla.tenants.models import ApiToken
from wasla.tenants.services import api_token_create, token_digest

pytestmark = pytest.mark.django_db


def test_create_shows_the_plaintext_once_and_it_works_with_the_api(tenant):
    client = client_for(tenant)
    response = client.post(reverse("portal:token_create"), {"name": "ERP integration"})
    token = ApiToken.objects.get(tenant=tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:token_created", args=[token.pk])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page["Cache-Control"] == "no-store"
    plaintext = html.split('<code id="new-token">', 1)[1].split("</code>", 1)[0]
    assert token_digest(plaintext) == token.digest
    assert plaintext.startswith(token.prefix)
    api = client.__class__()
    answer = api.get("/api/v1/settlements/", headers={"authorization": f"Bearer {plaintext}"})
    assert answer.status_code == 200

    # Never again: not on a reload, not in the list.
    again = client.get(response["Location"]).content.decode()
    assert plaintext not in again
    assert "cannot be shown again" in again
    listing = client.get(reverse("portal:tokens")).content.decode()
    assert plaintext not in listing
    assert "ERP integration" in listing
    assert token.prefix in listing


def test_an_empty_name_is_a_clear_error(tenant):
    response = client_for(tenant).post(reverse("portal:token_create"), {"name": "  "})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiToken.objects.filter(tenant=tenant).exists()


def test_revoke_asks_first_then_revokes(tenant):
    token, plaintext = api_token_create(tenant=tenant, name="old shop")
    client = client_for(tenant)
    confirm = client.get(reverse("portal:token_revoke", args=[token.pk]))
    assert "cannot be undone" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # looking is not revoking

    response = client.post(reverse("portal:token_revoke", args=[token.pk]), follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "is revoked" in response.content.decode()
    answer = client.__class__().get(
        "/api/v1/settlements/", headers={"authorization": f"Bearer {plaintext}"}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_only_owners_see_or_touch_tokens(tenant, role):
    token, _ = api_token_create(tenant=tenant, name="kept")
    client = client_for(tenant, role)
    responses = [
        client.get(reverse("portal:tokens")),
        client.get(reverse("portal:token_create")),
        client.post(reverse("portal:token_create"), {"name": "sneaky"}),
        client.post(reverse("portal:token_revoke", args=[token.pk])),
        client.get(reverse("portal:token_created", args=[token.pk])),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    token.refresh_from_db()
    assert token.revoked_at is None
    assert list(ApiToken.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["kept"]


def test_another_tenants_token_is_a_404(tenant):
    theirs, _ = api_token_create(tenant=make_tenant(), name="theirs")
    client = client_for(tenant)
    responses = [
        client.get(reverse("portal:token_revoke", args=[theirs.pk])),
        client.post(reverse("portal:token_revoke", args=[theirs.pk])),
        client.get(reverse("portal:token_created", args=[theirs.pk])),
    ]
    assert [r.status_code for r in responses] == [404] * 3
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "theirs" not in client.get(reverse("portal:tokens")).content.decode()


def test_the_plaintext_of_one_token_is_not_shown_on_anothers_page(tenant):
    client = client_for(tenant)
    client.post(reverse("portal:token_create"), {"name": "first"})
    first = ApiToken.objects.get(tenant=tenant, name="first")
    other, _ = api_token_create(tenant=tenant, name="second")
    html = client.get(reverse("portal:token_created", args=[other.pk])).content.decode()
    assert 'id="new-token"' not in html
    # ...and the first token's plaintext was dropped on the way.
    html = client.get(reverse("portal:token_created", args=[first.pk])).content.decode()
    assert 'id="new-token"' not in html
