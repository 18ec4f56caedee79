from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from .models import ApiToken, Tenant

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
