"""The portal's team pages (owners only): invite by e-mail (the password-reset link works end to
end), change a role, remove a member (membership gone, login deactivated), the last owner kept,
another tenant's member a 404, and nothing changed by a finance or viewer member."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from testsupport.factories import make_tenant
from wasla.portal.tests.settings_support import client_for, make_member
from wasla.tenants.models import TenantMember

pytestmark = pytest.mark.django_db


def owner_client(tenant) -> tuple[Client, TenantMember]:  # type: ignore[no-untyped-def]
    member = make_member(tenant, "owner")
    client = Client()
    client.cookies["wasla_language"] = "en"
    client.force_login(member.user)
    return client, member


def test_the_team_lists_username_email_role_and_since(tenant):
    client, me = owner_client(tenant)
    viewer = make_member(tenant, "viewer")
    html = client.get(reverse("portal:team")).content.decode()
    for member in (me, viewer):
        assert member.user.username in html
        assert member.user.email in html
    assert "Viewer" in html
    assert "Owner" in html


def test_invite_sends_a_link_that_sets_the_password_and_signs_in(
    tenant, django_capture_on_commit_callbacks
):
    client, _ = owner_client(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:team_invite"), {"email": "Sara@Nakheel.example", "role": "finance"}
        )
    assert response.status_code == 302
    member = TenantMember.objects.select_related("user").get(user__username="sara@nakheel.example")
    assert (member.tenant_id, member.role) == (tenant.pk, "finance")
    assert member.user.is_active
    assert not member.user.has_usable_password()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Sara@nakheel.example"]  # the domain lower-cased, as Django does
    assert tenant.name in message.subject
    link = re.search(r"https?://[^/\s]+(/merchant/password-reset/\S+/)", message.body).group(1)

    visitor = Client()
    visitor.cookies["wasla_language"] = "en"
    form_page = visitor.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    assert "set-password" in set_password_url
    done = visitor.post(
        set_password_url,
        {"new_password1": "Dates-and-Coffee-2026", "new_password2": "Dates-and-Coffee-2026"},
    )
    assert done.status_code == 302
    signed_in = visitor.post(
        reverse("portal:login"),
        {"username": "sara@nakheel.example", "password": "Dates-and-Coffee-2026"},
    )
    assert signed_in.status_code == 302
    assert visitor.get(reverse("portal:gateways")).status_code == 200
    # Finance is not an owner: the team stays closed to her.
    assert visitor.get(reverse("portal:team")).status_code == 403


def test_an_email_that_already_has_a_login_is_refused(tenant):
    client, me = owner_client(tenant)
    elsewhere = make_member(make_tenant(), "viewer")
    for email in (me.user.email, elsewhere.user.email.upper()):
        response = client.post(reverse("portal:team_invite"), {"email": email, "role": "viewer"})
        assert response.status_code == 200
        assert "already has a Wasla login" in response.content.decode()
    assert TenantMember.objects.filter(tenant=tenant).count() == 1


def test_invalid_email_or_role_is_a_form_error(tenant):
    client, _ = owner_client(tenant)
    response = client.post(reverse("portal:team_invite"), {"email": "nope", "role": "god"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address" in html
    assert "Select a valid choice" in html
    assert TenantMember.objects.filter(tenant=tenant).count() == 1


def test_change_a_role(tenant):
    client, _ = owner_client(tenant)
    viewer = make_member(tenant, "viewer")
    response = client.post(reverse("portal:team_member", args=[viewer.pk]), {"role": "finance"})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == "finance"


def test_the_last_owner_cannot_be_demoted_or_removed(tenant):
    client, me = owner_client(tenant)
    demote = client.post(reverse("portal:team_member", args=[me.pk]), {"role": "viewer"})
    assert "at least one owner" in demote.content.decode()
    remove = client.post(reverse("portal:team_remove", args=[me.pk]))
    assert remove.status_code == 400
    assert "at least one owner" in remove.content.decode()
    me.refresh_from_db()
    me.user.refresh_from_db()
    assert (me.role, me.user.is_active) == ("owner", True)


def test_with_a_second_owner_one_may_step_down(tenant):
    client, me = owner_client(tenant)
    make_member(tenant, "owner")
    client.post(reverse("portal:team_member", args=[me.pk]), {"role": "finance"})
    me.refresh_from_db()
    assert me.role == "finance"


def test_remove_deletes_the_membership_and_deactivates_the_login(tenant):
    client, _ = owner_client(tenant)
    finance = make_member(tenant, "finance")
    theirs = Client()
    theirs.force_login(finance.user)
    assert theirs.get(reverse("portal:gateways")).status_code == 200

    confirm = client.get(reverse("portal:team_remove", args=[finance.pk]))
    assert confirm.status_code == 200
    assert TenantMember.objects.filter(pk=finance.pk).exists()
    response = client.post(reverse("portal:team_remove", args=[finance.pk]))
    assert response.status_code == 302
    assert not TenantMember.objects.filter(pk=finance.pk).exists()
    user = get_user_model().objects.get(pk=finance.user_id)
    assert user.is_active is False
    # The open session no longer gets in.
    assert theirs.get(reverse("portal:gateways")).status_code == 302


def test_a_removed_login_can_be_invited_again(tenant):
    client, _ = owner_client(tenant)
    viewer = make_member(tenant, "viewer")
    client.post(reverse("portal:team_remove", args=[viewer.pk]))
    response = client.post(
        reverse("portal:team_invite"), {"email": viewer.user.email, "role": "viewer"}
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(pk=viewer.user_id)
    assert user.is_active
    assert not user.has_usable_password()
    assert TenantMember.objects.get(user=user).tenant_id == tenant.pk


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_viewers_get_the_403_page_and_nothing_changes(tenant, role):
    client = client_for(tenant, role)
    owner = make_member(tenant, "owner")
    responses = [
        client.get(reverse("portal:team")),
        client.post(reverse("portal:team_invite"), {"email": "x@example.sa", "role": "owner"}),
        client.post(reverse("portal:team_member", args=[owner.pk]), {"role": "viewer"}),
        client.post(reverse("portal:team_remove", args=[owner.pk])),
    ]
    assert [r.status_code for r in responses] == [403] * 4
    assert "Not allowed" in responses[0].content.decode()
    owner.refresh_from_db()
    owner.user.refresh_from_db()
    assert (owner.role, owner.user.is_active) == ("owner", True)
    assert not get_user_model().objects.filter(username="x@example.sa").exists()
    assert TenantMember.objects.filter(tenant=tenant).count() == 2


def test_another_tenants_member_is_a_404(tenant):
    client, _ = owner_client(tenant)
    theirs = make_member(make_tenant(), "owner")
    responses = [
        client.get(reverse("portal:team_member", args=[theirs.pk])),
        client.post(reverse("portal:team_member", args=[theirs.pk]), {"role": "viewer"}),
        client.post(reverse("portal:team_remove", args=[theirs.pk])),
    ]
    assert [r.status_code for r in responses] == [404] * 3
    theirs.refresh_from_db()
    theirs.user.refresh_from_db()
    assert (theirs.role, theirs.user.is_active) == ("owner", True)
    assert theirs.user.username not in client.get(reverse("portal:team")).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_thread_connections")
def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    """Each demotion locks the tenant's owner rows first, so the second one sees the first and
    is refused: the store is never left without an owner."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    from wasla.tenants.context import tenant_context
    from wasla.tenants.services import member_role_change

    tenant = make_tenant()
    owners = [make_member(tenant, "owner"), make_member(tenant, "owner")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(member: TenantMember) -> None:
        try:
            with tenant_context(tenant.pk):
                barrier.wait()
                member_role_change(member=member, role="viewer")
            outcomes.append("demoted")
        except ValidationError as error:
            outcomes.append(str(error.code))
        finally:
            connection.close()

    for _ in range(3):  # repeated: the race must hold every time
        TenantMember.objects.filter(pk__in=[m.pk for m in owners]).update(role="owner")
        outcomes.clear()
        threads = [threading.Thread(target=demote, args=(m,)) for m in owners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["demoted", "last_owner"]
        assert TenantMember.objects.filter(tenant=tenant, role="owner").count() == 1
