"""Portal pages of the merchant's API tokens (owners only): the list, creating one, revoking one.

A token's plaintext exists once: `api_token_create` returns it, the create view keeps it in the
session just long enough for the redirect, and the result page takes it out as it shows it.
Reloading that page shows it no more; the database holds only its digest.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wasla.tenants.models import ApiToken
from wasla.tenants.services import api_token_create, api_token_revoke

from .access import OWNER_ONLY, member_view
from .forms_settings import TokenCreateForm

NEW_TOKEN_SESSION_KEY = "portal_new_api_token"


def _tenant_token(request: HttpRequest, token_id: int) -> ApiToken:
    return get_object_or_404(
        ApiToken.objects.for_tenant(request.tenant),  # type: ignore[attr-defined]
        pk=token_id,
    )


@member_view(OWNER_ONLY)
def token_list(request: HttpRequest) -> HttpResponse:
    tokens = ApiToken.objects.for_tenant(request.tenant).order_by(  # type: ignore[attr-defined]
        "revoked_at", "-created_at", "-pk"
    )
    return render(request, "portal/settings/tokens.html", {"tokens": tokens})


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, plaintext = api_token_create(
            tenant=request.tenant,  # type: ignore[attr-defined]
            name=form.cleaned_data["name"],
        )
        request.session[NEW_TOKEN_SESSION_KEY] = {"id": token.pk, "plaintext": plaintext}
        return redirect("portal:token_created", token_id=token.pk)
    return render(request, "portal/settings/token_create.html", {"form": form})


@member_view(OWNER_ONLY)
def token_created(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _tenant_token(request, token_id)
    shown = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    plaintext = shown["plaintext"] if shown and shown.get("id") == token.pk else None
    response = render(
        request, "portal/settings/token_created.html", {"token": token, "plaintext": plaintext}
    )
    response["Cache-Control"] = "no-store"  # the browser keeps no copy of the plaintext
    return response


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _tenant_token(request, token_id)
    if request.method == "POST":
        api_token_revoke(token=token)
        messages.success(
            request,
            _("The token “%(name)s” is revoked: it no longer works.") % {"name": token.name},
        )
        return redirect("portal:tokens")
    return render(request, "portal/settings/token_revoke.html", {"token": token})
