from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .lookups import tenant_id_for_user
from .models import ApiToken, Tenant, TenantMember

TOKEN_PREFIX = "wsl_"


def token_digest(plaintext: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast digest is enough (no password hashing).
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_token_create(*, tenant: Tenant, name: str) -> tuple[ApiToken, str]:
    """A new token and its plaintext, which is returned here and nowhere else."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        tenant=tenant, name=name, prefix=plaintext[:12], digest=token_digest(plaintext)
    )
    return token, plaintext


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- The merchant's team -------------------------------------------------------------------
# A tenant always keeps an owner: demoting or removing the last one is refused. The owners'
# rows are locked first, so two owners demoting each other at once cannot both succeed.
# Refusals are ValidationErrors with a stable `code` ("last_owner", "login_exists") that the
# pages translate.

LAST_OWNER_MESSAGE = "A store needs at least one owner."


def _is_last_owner(*, member: TenantMember) -> bool:
    """Whether `member` is, in the database, the tenant's only owner. Locks the owners' rows
    (in id order) until the caller's transaction ends; reads roles from the rows, not from the
    object the caller holds, which may be stale."""
    owners = list(
        TenantMember.objects.select_for_update()
        .filter(tenant_id=member.tenant_id, role=TenantMember.Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return owners == [member.pk]


def member_invite(*, tenant: Tenant, email: str, role: str) -> TenantMember:
    """A login for `email` in `tenant` with `role`, and no usable password: the person picks
    one through the password-reset link the caller e-mails. The e-mail is the username.

    A login that was removed from a team earlier (inactive, in no team) is reused; any other
    existing login with that e-mail is refused, since a login belongs to one store only."""
    users = get_user_model().objects
    email = users.normalize_email(email).strip()
    with transaction.atomic():
        known = list(
            users.select_for_update()
            .filter(Q(username__iexact=email) | Q(email__iexact=email))
            .order_by("pk")
        )
        if any(
            u.is_active or u.is_staff or tenant_id_for_user(user_id=u.pk) is not None for u in known
        ):
            raise ValidationError("This e-mail already has a login.", code="login_exists")
        if known:
            user = known[0]
            user.email, user.is_active = email, True
        else:
            user = users.create_user(username=email.lower(), email=email)
        user.set_unusable_password()
        user.save()
        return TenantMember.objects.create(tenant=tenant, user=user, role=role)


def member_role_change(*, member: TenantMember, role: str) -> TenantMember:
    with transaction.atomic():
        if role != TenantMember.Role.OWNER and _is_last_owner(member=member):
            raise ValidationError(LAST_OWNER_MESSAGE, code="last_owner")
        TenantMember.objects.filter(pk=member.pk).update(role=role)
    member.role = role
    return member


def member_remove(*, member: TenantMember) -> None:
    """The membership goes and the login is deactivated (its sessions stop working)."""
    with transaction.atomic():
        if _is_last_owner(member=member):
            raise ValidationError(LAST_OWNER_MESSAGE, code="last_owner")
        user = member.user
        TenantMember.objects.filter(pk=member.pk).delete()
        user.is_active = False
        user.save(update_fields=["is_active"])
