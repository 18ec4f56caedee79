"""The product's ZATCA client against the ZATCA simulator over real HTTP (live server): the
whole onboarding, clearance with the cleared document's stamp, idempotency, rejections, and
the failures the caller must tell apart (ZatcaUnavailable vs ZatcaRefused)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509

from fatoora.certificates import certificate_facts, certificate_issued_by
from fatoora.hashing import FIRST_PIH, NS, invoice_hash, invoice_parse
from fatoora.verifying import stamp_verify
from testsupport.servers import Blackhole
from testsupport.zatca_egs import DEMO_OTP, Egs, make_egs, sample_stamped
from wasla.invoicing.zatca.client import (
    Csid,
    SubmissionAnswer,
    ZatcaClient,
    ZatcaRefused,
    ZatcaUnavailable,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim_url(live_server: Any) -> str:
    return f"{live_server.url}/sandbox/zatca"


@pytest.fixture
def client(sim_url: str) -> Iterator[ZatcaClient]:
    zatca = ZatcaClient(base_url=f"{sim_url}/e-invoicing/developer-portal", timeout=10)
    yield zatca
    zatca.close()


def control(sim_url: str, **knobs: Any) -> None:
    response = httpx.post(f"{sim_url}/_control/", json=knobs, trust_env=False)
    assert response.status_code == 200, response.text


def onboard(client: ZatcaClient, egs: Egs) -> tuple[Csid, Csid]:
    compliance = client.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    for name in ("Standard_Invoice", "Standard_Credit_Note"):
        uuid, stamped = sample_stamped(
            name, key=egs.key, certificate_pem=compliance.certificate_pem()
        )
        answer = client.compliance_check(
            csid=compliance, uuid=uuid, invoice_hash=stamped.invoice_hash, xml=stamped.xml
        )
        assert (answer.http_status, answer.status, answer.errors) == (200, "CLEARED", ())
    return compliance, client.production_csid(compliance=compliance)


def clear(
    client: ZatcaClient, egs: Egs, csid: Csid, *, icv: int, pih: str, uuid: str | None = None
) -> tuple[str, str, SubmissionAnswer]:
    uuid, stamped = sample_stamped(
        "Standard_Invoice",
        key=egs.key,
        certificate_pem=csid.certificate_pem(),
        uuid=uuid,
        icv=icv,
        pih=pih,
    )
    answer = client.clearance(
        csid=csid, uuid=uuid, invoice_hash=stamped.invoice_hash, xml=stamped.xml
    )
    return uuid, stamped.invoice_hash, answer


def test_onboarding_then_clearance_end_to_end(client: ZatcaClient, sim_url: str) -> None:
    egs = make_egs()
    compliance, production = onboard(client, egs)
    assert production.request_id != compliance.request_id
    certificate = x509.load_pem_x509_certificate(production.certificate_pem())
    ca_pem = httpx.get(f"{sim_url}/_control/ca", trust_env=False).json()["certificate"]
    ca = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    assert certificate_issued_by(certificate=certificate, issuer=ca)

    uuid, digest, answer = clear(client, egs, production, icv=1, pih=FIRST_PIH)
    assert (answer.http_status, answer.status, answer.errors, answer.warnings) == (
        200,
        "CLEARED",
        (),
        (),
    )
    assert [m.code for m in answer.messages] == ["XSD_ZATCA_VALID"]
    assert answer.cleared_xml is not None
    cleared = invoice_parse(xml=answer.cleared_xml)
    # ZATCA's stamp: same hash, signed by the simulator's CA, and it verifies.
    assert invoice_hash(invoice=cleared) == digest
    assert stamp_verify(invoice=cleared) == ()
    signer = cleared.xpath("ext:UBLExtensions//ds:X509Certificate/text()", namespaces=NS)[0].strip()
    assert signer == certificate_facts(certificate=ca).base64_der

    # The same document again: the same answer, nothing cleared twice.
    again = client.clearance(
        csid=production,
        uuid=uuid,
        invoice_hash=digest,
        xml=base64.b64decode(base64.b64encode(answer.cleared_xml)),
    )
    assert (again.http_status, again.status, again.cleared_xml) == (
        200,
        "CLEARED",
        answer.cleared_xml,
    )
    # The chain goes on from the cleared document's hash.
    _, _, second = clear(client, egs, production, icv=2, pih=digest)
    assert (second.http_status, second.status) == (200, "CLEARED")


def test_production_csid_needs_every_compliance_check(client: ZatcaClient) -> None:
    egs = make_egs()
    compliance = client.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    with pytest.raises(ZatcaRefused) as refused:
        client.production_csid(compliance=compliance)
    assert refused.value.status == 400
    assert "standard-388" in str(refused.value)
    assert compliance.secret not in str(refused.value) + refused.value.body + repr(compliance)


def test_wrong_otp_and_bad_credentials_are_refused(client: ZatcaClient) -> None:
    egs = make_egs()
    with pytest.raises(ZatcaRefused) as wrong_otp:
        client.compliance_csid(csr_pem=egs.csr_pem, otp="999999")
    assert (wrong_otp.value.status, "Invalid-OTP" in str(wrong_otp.value)) == (400, True)
    compliance = client.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    forged = Csid(
        request_id=compliance.request_id,
        binary_security_token=compliance.binary_security_token,
        secret="not-the-secret",
    )
    with pytest.raises(ZatcaRefused) as unauthorized:
        client.production_csid(compliance=forged)
    assert unauthorized.value.status == 401
    assert "not-the-secret" not in str(unauthorized.value) + unauthorized.value.body


def test_rejections_broken_document_and_wrong_pih(client: ZatcaClient) -> None:
    egs = make_egs()
    _, production = onboard(client, egs)
    # Signed by the EGS, then changed: the hash no longer matches the document.
    uuid, stamped = sample_stamped(
        "Standard_Invoice", key=egs.key, certificate_pem=production.certificate_pem()
    )
    broken = stamped.xml.replace(b">SA<", b">SB<", 1)
    answer = client.clearance(
        csid=production, uuid=uuid, invoice_hash=stamped.invoice_hash, xml=broken
    )
    assert (answer.http_status, answer.status, answer.cleared_xml) == (400, "NOT_CLEARED", None)
    codes = {m.code for m in answer.errors}
    assert "invalid-invoice-hash" in codes
    assert all(m.status == "ERROR" for m in answer.errors)

    _, _, wrong_pih = clear(client, egs, production, icv=1, pih=stamped.invoice_hash)
    assert wrong_pih.http_status == 400
    assert [m.code for m in wrong_pih.errors] == ["invalid-previous-invoice-hash"]
    # A rejection does not move the chain: the first document still chains to FIRST_PIH.
    _, _, first = clear(client, egs, production, icv=1, pih=FIRST_PIH)
    assert first.status == "CLEARED"


def test_forced_warning_and_rejection_knobs(client: ZatcaClient, sim_url: str) -> None:
    egs = make_egs()
    _, production = onboard(client, egs)
    control(sim_url, clearance="reject")
    _, _, rejected = clear(client, egs, production, icv=1, pih=FIRST_PIH)
    assert (rejected.http_status, [m.code for m in rejected.errors]) == (
        400,
        ["SANDBOX-FORCED-REJECTION"],
    )
    control(sim_url, clearance="warn")
    _, _, warned = clear(client, egs, production, icv=1, pih=FIRST_PIH)
    assert (warned.http_status, warned.status, len(warned.warnings)) == (202, "CLEARED", 1)
    assert warned.cleared_xml is not None


def test_5xx_timeouts_and_unreachable_raise_unavailable(client: ZatcaClient, sim_url: str) -> None:
    egs = make_egs()
    control(sim_url, api="error_500", api_fail_count=1)
    with pytest.raises(ZatcaUnavailable):
        client.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    compliance = client.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)  # the run is over

    control(sim_url, api="timeout", timeout_seconds=1.5, api_fail_count=1)
    impatient = ZatcaClient(base_url=f"{sim_url}/e-invoicing/developer-portal", timeout=0.5)
    try:
        with pytest.raises(ZatcaUnavailable):
            impatient.production_csid(compliance=compliance)
    finally:
        impatient.close()

    hole = Blackhole()
    silent = ZatcaClient(base_url=hole.url, timeout=0.3)
    try:
        with pytest.raises(ZatcaUnavailable):
            silent.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    finally:
        silent.close()
        hole.close()
    closed = ZatcaClient(base_url="http://127.0.0.1:9", timeout=0.3)
    with pytest.raises(ZatcaUnavailable):
        closed.compliance_csid(csr_pem=egs.csr_pem, otp=DEMO_OTP)
    closed.close()
