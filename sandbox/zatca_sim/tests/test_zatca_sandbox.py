"""The ZATCA simulator over real HTTP (live server, plain httpx): the gateway's checks, bad
input answered 4xx JSON (never 500), the compliance steps a production CSID needs, reporting,
rule findings, UUID idempotency and the knobs."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509

from fatoora.signing import invoice_stamp
from sandbox.zatca_sim.models import ZatcaSubmission
from testsupport.zatca_egs import (
    DEMO_OTP,
    SIGNED_AT,
    Egs,
    make_egs,
    sample_document,
    sample_stamped,
)

pytestmark = pytest.mark.django_db(transaction=True)
V2 = {"Accept-Version": "V2"}


@pytest.fixture
def sim(live_server: Any) -> Iterator[httpx.Client]:
    base = f"{live_server.url}/sandbox/zatca"
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
        yield client


API = "/e-invoicing/developer-portal"


def csid(sim: httpx.Client, egs: Egs) -> dict[str, Any]:
    body = {"csr": base64.b64encode(egs.csr_pem).decode()}
    response = sim.post(f"{API}/compliance", json=body, headers={**V2, "OTP": DEMO_OTP})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["dispositionMessage"] == "ISSUED"
    return answer


def auth(answer: dict[str, Any]) -> tuple[str, str]:
    return answer["binarySecurityToken"], answer["secret"]


def pem(answer: dict[str, Any]) -> bytes:
    der = base64.b64decode(base64.b64decode(answer["binarySecurityToken"]))
    text = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE-----\n{text}-----END CERTIFICATE-----\n".encode()


def submit(
    sim: httpx.Client,
    path: str,
    answer: dict[str, Any],
    uuid: str,
    digest: str,
    xml: bytes,
    **headers: str,
) -> httpx.Response:
    body = {"invoiceHash": digest, "uuid": uuid, "invoice": base64.b64encode(xml).decode()}
    return sim.post(f"{API}{path}", json=body, headers={**V2, **headers}, auth=auth(answer))


def check(sim: httpx.Client, egs: Egs, compliance: dict[str, Any], name: str) -> httpx.Response:
    uuid, stamped = sample_stamped(name, key=egs.key, certificate_pem=pem(compliance))
    return submit(sim, "/compliance/invoices", compliance, uuid, stamped.invoice_hash, stamped.xml)


def production(sim: httpx.Client, egs: Egs) -> dict[str, Any]:
    compliance = csid(sim, egs)
    for name in ("Standard_Invoice", "Standard_Credit_Note"):
        assert check(sim, egs, compliance, name).status_code == 200
    response = sim.post(
        f"{API}/production/csids",
        json={"compliance_request_id": str(compliance["requestID"])},
        headers=V2,
        auth=auth(compliance),
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["tokenType"].endswith("#X509v3")
    return answer


@pytest.mark.parametrize(
    ("headers", "content", "status", "code"),
    [
        ({}, b'{"csr": "x"}', 400, "Invalid-Version"),
        (V2, b"{not json", 400, "Invalid-Request"),
        (V2, b'["csr"]', 400, "Invalid-Request"),
        (V2, b"\xff\xfe", 400, "Invalid-Request"),
        (V2, b'{"csr": "x"}', 400, "Missing-OTP"),
        ({**V2, "OTP": "000000"}, b'{"csr": "x"}', 400, "Invalid-OTP"),
        ({**V2, "OTP": DEMO_OTP}, b'{"csr": "%%% not base64"}', 400, "Invalid-CSR"),
        (
            {**V2, "OTP": DEMO_OTP},
            b'{"csr": "' + base64.b64encode(b"hello") + b'"}',
            400,
            "Invalid-CSR",
        ),
        ({**V2, "OTP": DEMO_OTP}, b'{"csr": 12}', 400, "Invalid-CSR"),
        (V2, b'{"csr": "' + b"A" * (3 * 1024 * 1024) + b'"}', 413, None),
    ],
)
def test_bad_onboarding_requests_answer_4xx_json(
    sim: httpx.Client, headers: dict[str, str], content: bytes, status: int, code: str | None
) -> None:
    response = sim.post(f"{API}/compliance", content=content, headers=headers)
    # A huge body is refused (413, problem+json) by the site's body-size middleware first.
    assert (response.status_code, response.json().get("code")) == (status, code)


def test_bad_submissions_answer_4xx_json(sim: httpx.Client) -> None:
    egs = make_egs()
    compliance = csid(sim, egs)
    path = f"{API}/compliance/invoices"
    assert sim.get(path, headers=V2).status_code == 405
    assert sim.post(path, json={}, headers=V2).status_code == 401
    assert sim.post(path, json={}, headers=V2, auth=("nobody", "nothing")).status_code == 401
    bad_basic = {**V2, "Authorization": "Basic %%%"}
    assert sim.post(path, json={}, headers=bad_basic).status_code == 401
    for body in (
        {},
        {"uuid": "u", "invoiceHash": "h", "invoice": "%%%"},
        {"uuid": "u", "invoiceHash": "h", "invoice": 5},
        {"uuid": "u" * 65, "invoiceHash": "h", "invoice": "AA=="},
    ):
        response = sim.post(path, json=body, headers=V2, auth=auth(compliance))
        assert (response.status_code, response.json()["code"]) == (400, "Invalid-Request")
    # Base64 of something that is not XML: a validation answer, not a crash.
    response = submit(sim, "/compliance/invoices", compliance, "u", "h", b"<<not xml")
    assert response.status_code == 400
    errors = response.json()["validationResults"]["errorMessages"]
    assert [e["code"] for e in errors] == ["XSD_ZATCA_INVALID"]
    # A compliance CSID cannot clear; the production one needs Clearance-Status: 1.
    cleared = submit(sim, "/invoices/clearance/single", compliance, "u", "h", b"<x/>")
    assert cleared.status_code == 401
    answer = production(sim, egs)
    off = submit(sim, "/invoices/clearance/single", answer, "u", "h", b"<x/>")
    assert (off.status_code, off.json()["code"]) == (400, "Invalid-Clearance-Status")


def test_production_csid_waits_for_each_declared_document_type(sim: httpx.Client) -> None:
    egs = make_egs(invoice_types="1100")
    compliance = csid(sim, egs)

    def ask() -> httpx.Response:
        body = {"compliance_request_id": compliance["requestID"]}
        return sim.post(f"{API}/production/csids", json=body, headers=V2, auth=auth(compliance))

    for name in ("Standard_Invoice", "Standard_Credit_Note", "Simplified_Invoice"):
        response = check(sim, egs, compliance, name)
        # The SDK's simplified samples are years old: BR-KSA-98 (report within 24 hours) warns.
        assert response.status_code == (202 if "Simplified" in name else 200), response.text
        refused = ask()
        assert (refused.status_code, refused.json()["code"]) == (400, "Missing-ComplianceSteps")
    simplified = check(sim, egs, compliance, "Simplified_Credit_Note").json()
    assert (simplified["reportingStatus"], simplified["clearanceStatus"]) == ("REPORTED", None)
    assert ask().status_code == 200
    wrong_id = sim.post(
        f"{API}/production/csids",
        json={"compliance_request_id": "1"},
        headers=V2,
        auth=auth(compliance),
    )
    assert wrong_id.status_code == 400


def test_rule_findings_uuid_idempotency_and_reporting(sim: httpx.Client) -> None:
    egs = make_egs()
    answer = production(sim, egs)
    # A seller VAT number ZATCA's rules refuse, properly stamped: the KSA rule, nothing else.
    uuid, xml = sample_document("Standard_Invoice")
    xml = xml.replace(b">399999999900003<", b">12345<", 1)
    certificate = x509.load_pem_x509_certificate(pem(answer))
    stamped = invoice_stamp(
        xml=xml, private_key=egs.key, certificate=certificate, signing_time=SIGNED_AT
    )
    response = submit(
        sim,
        "/invoices/clearance/single",
        answer,
        uuid,
        stamped.invoice_hash,
        stamped.xml,
        **{"Clearance-Status": "1"},
    )
    body = response.json()
    assert (response.status_code, body["clearanceStatus"], body["clearedInvoice"]) == (
        400,
        "NOT_CLEARED",
        None,
    )
    assert [(e["code"], e["category"]) for e in body["validationResults"]["errorMessages"]] == [
        ("BR-KSA-40", "KSA")
    ]

    uuid, good = sample_stamped("Standard_Invoice", key=egs.key, certificate_pem=pem(answer))
    for _ in range(2):
        ok = submit(
            sim,
            "/invoices/clearance/single",
            answer,
            uuid,
            good.invoice_hash,
            good.xml,
            **{"Clearance-Status": "1"},
        )
        assert (ok.status_code, ok.json()["clearanceStatus"]) == (200, "CLEARED")
    accepted = ZatcaSubmission.objects.exclude(status=ZatcaSubmission.Status.REJECTED)
    assert accepted.filter(uuid=uuid).count() == 1
    # Another document under a cleared UUID is refused.
    _, other = sample_stamped(
        "Standard_Invoice",
        key=egs.key,
        certificate_pem=pem(answer),
        uuid=uuid,
        icv=2,
        pih=good.invoice_hash,
    )
    clash = submit(
        sim,
        "/invoices/clearance/single",
        answer,
        uuid,
        other.invoice_hash,
        other.xml,
        **{"Clearance-Status": "1"},
    )
    assert clash.status_code == 400
    assert clash.json()["validationResults"]["errorMessages"][0]["code"] == "duplicate-invoice-uuid"
    # Reporting takes simplified documents only.
    uuid, standard = sample_stamped(
        "Standard_Invoice", key=egs.key, certificate_pem=pem(answer), icv=2, pih=good.invoice_hash
    )
    reported = submit(
        sim, "/invoices/reporting/single", answer, uuid, standard.invoice_hash, standard.xml
    )
    assert (reported.status_code, reported.json()["reportingStatus"]) == (400, "NOT_REPORTED")
    codes = [e["code"] for e in reported.json()["validationResults"]["errorMessages"]]
    assert codes == ["invalid-invoice-type"]
    uuid, simple = sample_stamped(
        "Simplified_Invoice", key=egs.key, certificate_pem=pem(answer), icv=2, pih=good.invoice_hash
    )
    reported = submit(
        sim, "/invoices/reporting/single", answer, uuid, simple.invoice_hash, simple.xml
    )
    assert (reported.status_code, reported.json()["reportingStatus"]) == (202, "REPORTED")
    warnings = reported.json()["validationResults"]["warningMessages"]
    assert [w["code"] for w in warnings] == ["BR-KSA-98"]  # an old sample, reported late


def test_a_document_signed_by_another_egs_is_refused(sim: httpx.Client) -> None:
    egs, other = make_egs(), make_egs()
    answer, foreign = production(sim, egs), production(sim, other)
    uuid, stamped = sample_stamped("Standard_Invoice", key=other.key, certificate_pem=pem(foreign))
    response = submit(
        sim,
        "/invoices/clearance/single",
        answer,
        uuid,
        stamped.invoice_hash,
        stamped.xml,
        **{"Clearance-Status": "1"},
    )
    assert response.status_code == 400
    codes = [e["code"] for e in response.json()["validationResults"]["errorMessages"]]
    assert codes == ["invalid-certificate"]
    # The chain of `egs` was not touched: its first document (PIH = FIRST_PIH) still clears.
    uuid, own = sample_stamped("Standard_Invoice", key=egs.key, certificate_pem=pem(answer))
    first = submit(
        sim,
        "/invoices/clearance/single",
        answer,
        uuid,
        own.invoice_hash,
        own.xml,
        **{"Clearance-Status": "1"},
    )
    assert (first.status_code, first.json()["clearanceStatus"]) == (200, "CLEARED")


def test_control_knobs(sim: httpx.Client) -> None:
    assert sim.get("/_control/").json() == {
        "api": "ok",
        "timeout_seconds": 5.0,
        "api_fail_count": 0,
        "clearance": "validate",
    }
    for bad in (
        {"clearance": "maybe"},
        {"api": "down"},
        {"webhook": "send"},
        {"timeout_seconds": -1},
    ):
        response = sim.post("/_control/", json=bad)
        assert (response.status_code, response.json()["code"]) == (400, "Invalid-Request")
    assert sim.post("/_control/", content=b"{oops").status_code == 400
    assert sim.put("/_control/").status_code == 405
    set_ = sim.post("/_control/", json={"api": "error_500", "clearance": "reject"}).json()
    assert (set_["api"], set_["clearance"]) == ("error_500", "reject")
    down = sim.post(f"{API}/compliance", json={}, headers={**V2, "OTP": DEMO_OTP})
    assert (down.status_code, down.json()["code"]) == (500, "Internal-Server-Error")
    assert sim.delete("/_control/").json()["api"] == "ok"
