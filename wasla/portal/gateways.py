"""Portal pages of the merchant's payment gateways: the list (every role), and for owners:
connect one, change its keys, test the connection, switch between sandbox and live.

Secrets never reach a page, a message or a log: the list says only whether one is set, the
forms never render them back, and a provider's error is shown without anything key-shaped
(`gateway_config_check`). Every provider call goes through the orchestrator, outside any
transaction.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wasla.common.problems import Problem
from wasla.payments.gateways import (
    gateway_config_check,
    gateway_config_connect,
    gateway_config_mode_switch,
)
from wasla.payments.models import PaymentGatewayConfig
from wasla.payments.orchestrator import webhook_url
from wasla.payments.providers.registry import UnknownProvider, provider_class

from .access import EVERYONE, OWNER_ONLY, member_view
from .forms_settings import MODE_LABELS, PROVIDER_LABELS, GatewayConnectForm, GatewayKeysForm

PROVIDER_ORDER = list(PROVIDER_LABELS)


def _provider_label(provider: str) -> str:
    return str(PROVIDER_LABELS.get(provider, provider))


def _offline(provider: str) -> bool:
    """Cash on delivery (and the like) has no provider account to test or keys to hold."""
    try:
        return provider_class(provider).collected_offline
    except UnknownProvider:
        return True


def _gateway_row(config: PaymentGatewayConfig) -> dict[str, object]:
    return {
        "config": config,
        "provider_label": _provider_label(config.provider),
        "mode_label": MODE_LABELS.get(config.mode, config.mode),
        "offline": _offline(config.provider),
        "secret_set": bool(config.secret_key),
        "webhook_set": bool(config.webhook_secret),
        "webhook_url": webhook_url(config),
        "copy_id": f"webhook-url-{config.pk}",
    }


def _tenant_config(request: HttpRequest, config_id: int) -> PaymentGatewayConfig:
    # Scoped twice: by the tenant here and by row-level security; another tenant's id is a 404.
    return get_object_or_404(
        PaymentGatewayConfig.objects.for_tenant(request.tenant),  # type: ignore[attr-defined]
        pk=config_id,
    )


def _connect_failed(form: GatewayConnectForm | GatewayKeysForm, problem: Problem) -> None:
    form.add_error(
        None,
        _("The provider did not accept the connection; check the keys and the mode.")
        if problem.status == 502
        else _("This provider cannot be connected."),
    )


@member_view(EVERYONE)
def gateway_list(request: HttpRequest) -> HttpResponse:
    configs = PaymentGatewayConfig.objects.for_tenant(request.tenant)  # type: ignore[attr-defined]
    rows = sorted(
        (_gateway_row(c) for c in configs),
        key=lambda row: (
            PROVIDER_ORDER.index(row["config"].provider)  # type: ignore[attr-defined]
            if row["config"].provider in PROVIDER_ORDER  # type: ignore[attr-defined]
            else len(PROVIDER_ORDER),
            row["config"].mode != "live",  # type: ignore[attr-defined]
        ),
    )
    return render(request, "portal/settings/gateways.html", {"rows": rows})


def _keys_save(
    request: HttpRequest,
    form: GatewayConnectForm | GatewayKeysForm,
    *,
    provider: str,
    mode: str,
) -> PaymentGatewayConfig | None:
    """Connect (or update) the tenant's gateway with the form's keys; an empty secret keeps the
    stored one. A gateway put in use becomes the provider's only one in use (the other mode is
    turned off). None, with the reason on the form, when the provider refused."""
    data = form.cleaned_data
    try:
        config = gateway_config_connect(
            tenant=request.tenant,  # type: ignore[attr-defined]
            provider=provider,
            mode=mode,
            public_key=data["public_key"],
            secret_key=data["secret_key"],
            webhook_secret=data["webhook_secret"],
            is_active=data["is_active"],
        )
    except Problem as problem:
        _connect_failed(form, problem)
        return None
    if config.is_active:
        gateway_config_mode_switch(config=config)
    return config


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def gateway_connect(request: HttpRequest) -> HttpResponse:
    form = GatewayConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config = _keys_save(request, form, provider=data["provider"], mode=data["mode"])
        if config is not None:
            messages.success(
                request,
                _("%(provider)s (%(mode)s) is connected.")
                % {"provider": _provider_label(config.provider), "mode": MODE_LABELS[config.mode]},
            )
            return redirect("portal:gateways")
    return render(request, "portal/settings/gateway_connect.html", {"form": form})


@member_view(OWNER_ONLY)
@require_http_methods(["GET", "POST"])
def gateway_edit(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _tenant_config(request, config_id)
    form = GatewayKeysForm(
        request.POST or None,
        initial={"public_key": config.public_key, "is_active": config.is_active},
        secret_set=bool(config.secret_key),
        webhook_set=bool(config.webhook_secret),
    )
    saved = (
        request.method == "POST"
        and form.is_valid()
        and _keys_save(request, form, provider=config.provider, mode=config.mode) is not None
    )
    if saved:
        messages.success(request, _("The gateway's keys are saved."))
        return redirect("portal:gateways")
    return render(
        request, "portal/settings/gateway_edit.html", {"form": form, "row": _gateway_row(config)}
    )


@member_view(OWNER_ONLY)
@require_POST
def gateway_test(request: HttpRequest, config_id: int) -> HttpResponse:
    config = _tenant_config(request, config_id)
    names = {"provider": _provider_label(config.provider), "mode": MODE_LABELS[config.mode]}
    if _offline(config.provider):
        messages.info(request, _("%(provider)s needs no connection.") % names)
        return redirect("portal:gateways")
    check = gateway_config_check(config=config)
    if check.ok:
        messages.success(request, _("%(provider)s (%(mode)s) accepted the keys.") % names)
    elif check.reachable:
        messages.error(
            request,
            _("%(provider)s (%(mode)s) refused the keys: %(detail)s")
            % {**names, "detail": check.detail or _("no reason given")},
        )
    else:
        messages.error(
            request,
            _("%(provider)s (%(mode)s) could not be reached; try again in a few minutes.") % names,
        )
    return redirect("portal:gateways")


@member_view(OWNER_ONLY)
@require_POST
def gateway_activate(request: HttpRequest, config_id: int) -> HttpResponse:
    config = gateway_config_mode_switch(config=_tenant_config(request, config_id))
    messages.success(
        request,
        _("Checkouts now use %(provider)s in %(mode)s mode.")
        % {"provider": _provider_label(config.provider), "mode": MODE_LABELS[config.mode]},
    )
    return redirect("portal:gateways")
