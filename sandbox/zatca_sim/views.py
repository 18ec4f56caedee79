"""HTTP views of the ZATCA simulator: the gateway's checks, then one service each.

Every API call: POST only (405), `Accept-Version: V2` (400 Invalid-Version), a JSON object body
of at most `MAX_BODY_BYTES` (413 / 400), the `api` fault knob (500 in ZATCA's error shape, or a
slow answer), then Basic auth with the right kind of CSID (401). `_control/` (GET shows the
knobs, POST sets some, DELETE resets them) and `_control/ca` (the CA certificate, to verify the
simulator's stamp) are the test controls; they take no auth and suffer no faults.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.zatca_sim import errors
from sandbox.zatca_sim.auth import csid_authenticate
from sandbox.zatca_sim.authority import authority_get
from sandbox.zatca_sim.knobs import KNOB_NAMES, KNOBS
from sandbox.zatca_sim.models import ZatcaCsid, ZatcaSubmission
from sandbox.zatca_sim.services_onboarding import compliance_csid_issue, production_csid_issue
from sandbox.zatca_sim.services_submissions import compliance_check, submission_make

MAX_BODY_BYTES: Final = 2 * 1024 * 1024
Handler = Callable[[HttpRequest, dict[str, Any], ZatcaCsid | None], tuple[int, dict[str, Any]]]


def _json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise errors.ZatcaApiError(413, errors.TOO_LARGE, "The request body is too large")
    try:
        body = request.body
    except RequestDataTooBig:
        raise errors.ZatcaApiError(413, errors.TOO_LARGE, "The request body is too large") from None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_request(errors.INVALID_REQUEST, "The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise errors.bad_request(errors.INVALID_REQUEST, "The body must be a JSON object")
    return data


def zatca_api(
    auth: ZatcaCsid.Kind | None,
) -> Callable[[Handler], Callable[[HttpRequest], HttpResponse]]:
    def decorate(handle: Handler) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @functools.wraps(handle)
        def view(request: HttpRequest) -> HttpResponse:
            try:
                if request.method != "POST":
                    raise errors.ZatcaApiError(405, errors.METHOD_NOT_ALLOWED, "Use POST")
                if request.headers.get("Accept-Version") != "V2":
                    raise errors.bad_request(errors.INVALID_VERSION, "Accept-Version must be V2")
                data = _json_object(request)
                if KNOBS.api_fault_fails():
                    raise errors.ZatcaApiError(500, errors.INTERNAL_ERROR, "Something went wrong")
                csid = None
                if auth is not None:
                    header = request.headers.get("Authorization", "")
                    csid = csid_authenticate(authorization=header, kind=auth)
                status, body = handle(request, data, csid)
            except errors.ZatcaApiError as exc:
                response = errors.error_response(exc)
                if exc.status == 405:
                    response["Allow"] = "POST"
                return response
            return errors.json_response(body, status=status)

        return view

    return decorate


@zatca_api(auth=None)
def compliance_csid_api(
    request: HttpRequest, data: dict[str, Any], _: ZatcaCsid | None
) -> tuple[int, dict[str, Any]]:
    return 200, compliance_csid_issue(otp=request.headers.get("OTP"), data=data, now=timezone.now())


@zatca_api(auth=ZatcaCsid.Kind.COMPLIANCE)
def compliance_invoices_api(
    request: HttpRequest, data: dict[str, Any], csid: ZatcaCsid | None
) -> tuple[int, dict[str, Any]]:
    assert csid is not None
    return compliance_check(csid=csid, data=data, now=timezone.now())


@zatca_api(auth=ZatcaCsid.Kind.COMPLIANCE)
def production_csid_api(
    request: HttpRequest, data: dict[str, Any], csid: ZatcaCsid | None
) -> tuple[int, dict[str, Any]]:
    assert csid is not None
    return 200, production_csid_issue(compliance=csid, data=data, now=timezone.now())


@zatca_api(auth=ZatcaCsid.Kind.PRODUCTION)
def clearance_api(
    request: HttpRequest, data: dict[str, Any], csid: ZatcaCsid | None
) -> tuple[int, dict[str, Any]]:
    assert csid is not None
    if request.headers.get("Clearance-Status") != "1":
        raise errors.bad_request(
            errors.INVALID_CLEARANCE_STATUS, "Clearance-Status must be 1 (clearance is on)"
        )
    return submission_make(
        kind=ZatcaSubmission.Kind.CLEARANCE, csid=csid, data=data, now=timezone.now()
    )


@zatca_api(auth=ZatcaCsid.Kind.PRODUCTION)
def reporting_api(
    request: HttpRequest, data: dict[str, Any], csid: ZatcaCsid | None
) -> tuple[int, dict[str, Any]]:
    assert csid is not None
    return submission_make(
        kind=ZatcaSubmission.Kind.REPORTING, csid=csid, data=data, now=timezone.now()
    )


@csrf_exempt
def control_api(request: HttpRequest) -> HttpResponse:
    try:
        if request.method == "POST":
            data = _json_object(request)
            unknown = sorted(set(data) - set(KNOB_NAMES))
            if unknown:
                raise errors.bad_request(
                    errors.INVALID_REQUEST, f"Unknown knobs: {', '.join(unknown)}"
                )
            try:
                KNOBS.set(**{name: data[name] for name in KNOB_NAMES if data.get(name) is not None})
            except (ValueError, TypeError) as exc:
                raise errors.bad_request(errors.INVALID_REQUEST, str(exc)) from None
        elif request.method == "DELETE":
            KNOBS.reset()
        elif request.method != "GET":
            raise errors.ZatcaApiError(405, errors.METHOD_NOT_ALLOWED, "Use GET, POST or DELETE")
    except errors.ZatcaApiError as exc:
        return errors.error_response(exc)
    return errors.json_response(KNOBS.as_dict())


def control_ca_api(request: HttpRequest) -> HttpResponse:
    ca = authority_get(now=timezone.now())
    pem = ca.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return errors.json_response({"certificate": pem})
