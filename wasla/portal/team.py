"""Portal pages of the merchant's team (owners only): the members, inviting one, changing a
role, removing one.

An invited person gets a login with no usable password and an e-mail with Django's
password-reset link (the portal's own reset pages), so the owner never sees or sends a password.
The e-mail leaves after the membership is committed. The last owner cannot be demoted or
removed (`wasla.tenants.services`); another tenant's member id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wasla.tenants.models import TenantMember
from wasla.tenants.services import member_invite, member_remove, member_role_change

from .access import OWNER_ONLY, member_view
from .forms_settings import ROLE_LABELS, TEAM_ERRORS, MemberInviteForm, MemberRoleForm


def _tenant_member(request: HttpRequest, member_id: int) -> TenantMember:
    return get_object_or_404(
        TenantMember.objects.for_tenant(request.tenant).select_related(  # type: ignore[attr-defined]
            "user"
        ),
        pk=member_id,
    )


def _refusal(error: ValidationError) -> str:
    return str(TEAM_ERRORS.get(error.code or "", _("This change is not possible.")))


def _invitation_send(request: HttpRequest, member: TenantMember) -> None:
    """Django's password-reset e-mail, worded as an invitation, to the new member."""
    user = member.user
    context = {
        "email": user.email,
        "user": user,
        "store": member.tenant.name,
        "domain": request.get_host(),
        "protocol": request.scheme,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    PasswordResetForm().send_mail(
        "portal/settings/team_invite_subject.txt",
        "portal/settings/team_invite_email.txt",
        context,
        None,
        user.email,
    )


@member_view(OWNER_ONLY)
def team_list(request: HttpRequest) -> HttpResponse:
    members = (
        TenantMember.objects.for_tenant(request.tenant)  # type: ignore[attr-defined]
        .select_related("user")
        .order_by("created_at", "pk")
    )
    rows = [{"member": m, "role_label": ROLE_LABELS.get(m.role, m.role)} for m in members]
    return render(request, "portal/settings/team.html", {"rows": rows})


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def team_invite(request: HttpRequest) -> HttpResponse:
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = member_invite(
                tenant=request.tenant,  # type: ignore[attr-defined]
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            form.add_error("email", _refusal(error))
        else:
            transaction.on_commit(lambda: _invitation_send(request, member))
            messages.success(
                request,
                _("An invitation is on its way to %(email)s.") % {"email": member.user.email},
            )
            return redirect("portal:team")
    return render(request, "portal/settings/team_invite.html", {"form": form})


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def team_member(request: HttpRequest, member_id: int) -> HttpResponse:
    """One member: change the role (POST here), or go to the removal confirmation."""
    member = _tenant_member(request, member_id)
    form = MemberRoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            member_role_change(member=member, role=form.cleaned_data["role"])
        except ValidationError as error:
            form.add_error("role", _refusal(error))
        else:
            messages.success(
                request,
                _("%(user)s is now %(role)s.")
                % {"user": member.user.get_username(), "role": ROLE_LABELS[member.role]},
            )
            return redirect("portal:team")
    return render(
        request,
        "portal/settings/team_member.html",
        {"member": member, "role_label": ROLE_LABELS.get(member.role, member.role), "form": form},
    )


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def team_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _tenant_member(request, member_id)
    error = ""
    if request.method == "POST":
        try:
            member_remove(member=member)
        except ValidationError as refusal:
            error = _refusal(refusal)
        else:
            messages.success(
                request,
                _("%(user)s is removed from the team and can no longer sign in.")
                % {"user": member.user.get_username()},
            )
            return redirect("portal:team")
    return render(
        request,
        "portal/settings/team_remove.html",
        {"member": member, "error": error},
        status=400 if error else 200,
    )
