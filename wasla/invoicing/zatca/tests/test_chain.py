"""The chain: each stamped document gets the next ICV and its predecessor's hash, under the EGS
unit's lock, all or nothing; documents issued while no unit is active wait and are stamped in
issue order; the stamp and the chain head are frozen by PostgreSQL (raw SQL)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from fatoora.hashing import FIRST_PIH
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.zatca_chain import STAMPED_AT, make_active_egs, stamped_report
from wasla.invoicing.models import Invoice
from wasla.invoicing.zatca import stamping
from wasla.invoicing.zatca.egs import EgsNotActive
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.invoicing.zatca.stamping import zatca_document_stamp, zatca_stamp_pending
from wasla.invoicing.zatca.ubl import ChainLink

pytestmark = pytest.mark.django_db


def _issued_invoice(amount: str = "100.00") -> Invoice:
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 10), amount)
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    return invoice


def test_issuing_registers_a_pending_unstamped_document():
    invoice = _issued_invoice()

    document = ZatcaDocument.objects.get(invoice=invoice)

    assert document.status == ZatcaDocument.Status.PENDING
    assert (document.icv, document.pih, document.signed_xml) == (None, "", None)
    assert document.tenant_id == invoice.tenant_id


def test_no_active_unit_leaves_documents_waiting_then_they_are_stamped_in_issue_order():
    invoices = [_issued_invoice(amount) for amount in ("100.00", "200.00", "300.00")]
    documents = [ZatcaDocument.objects.get(invoice=invoice) for invoice in invoices]
    with pytest.raises(EgsNotActive):
        zatca_document_stamp(document=documents[0], now=STAMPED_AT)
    assert zatca_stamp_pending(now=STAMPED_AT) == []

    unit = make_active_egs()
    outcomes = zatca_stamp_pending(now=STAMPED_AT)

    assert [o.document_id for o in outcomes] == [d.pk for d in documents]
    stamped = list(ZatcaDocument.objects.order_by("icv"))
    assert [d.invoice_id for d in stamped] == [invoice.pk for invoice in invoices]
    assert [d.icv for d in stamped] == [1, 2, 3]
    assert [d.pih for d in stamped] == [FIRST_PIH, stamped[0].invoice_hash, stamped[1].invoice_hash]
    unit.refresh_from_db()
    assert (unit.last_icv, unit.last_hash) == (3, stamped[2].invoice_hash)
    for document in stamped:
        report = stamped_report(document)
        assert report.errors == (), report.errors


def test_stamping_twice_is_stamping_once():
    make_active_egs()
    document = ZatcaDocument.objects.get(invoice=_issued_invoice())
    first = zatca_document_stamp(document=document, now=STAMPED_AT)

    again = zatca_document_stamp(document=document, now=STAMPED_AT.replace(hour=10))

    assert (again.icv, again.invoice_hash, bytes(again.signed_xml)) == (
        first.icv,
        first.invoice_hash,
        bytes(first.signed_xml),
    )
    assert EgsUnit.objects.get().last_icv == 1


def test_the_private_key_and_csid_are_encrypted_at_rest():
    unit = make_active_egs()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key_pem, production_token, production_secret FROM zatca_egsunit"
            " WHERE id = %s",
            [unit.pk],
        )
        row = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in row)
    assert "PRIVATE KEY" not in row[0]
    assert unit.production_secret not in row[2]


def _raw(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE zatca_zatcadocument SET icv = icv + 10 WHERE id = %s",
        "UPDATE zatca_zatcadocument SET pih = 'AAAA' WHERE id = %s",
        "UPDATE zatca_zatcadocument SET invoice_hash = 'AAAA' WHERE id = %s",
        "UPDATE zatca_zatcadocument SET signed_xml = '\\x00'::bytea WHERE id = %s",
        "UPDATE zatca_zatcadocument SET qr = 'AAAA' WHERE id = %s",
        "UPDATE zatca_zatcadocument SET uuid = gen_random_uuid() WHERE id = %s",
        "DELETE FROM zatca_zatcadocument WHERE id = %s",
    ],
)
def test_the_stamp_is_frozen_by_the_database(sql):
    make_active_egs()
    document = zatca_document_stamp(
        document=ZatcaDocument.objects.get(invoice=_issued_invoice()), now=STAMPED_AT
    )

    with pytest.raises(DatabaseError, match=r"final|never"):
        _raw(sql, [document.pk])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE zatca_egsunit SET last_icv = last_icv - 1 WHERE id = %s",
        "UPDATE zatca_egsunit SET last_hash = 'AAAA' WHERE id = %s",
        "DELETE FROM zatca_egsunit WHERE id = %s",
    ],
)
def test_the_chain_head_only_moves_forward(sql):
    unit = make_active_egs()
    zatca_document_stamp(
        document=ZatcaDocument.objects.get(invoice=_issued_invoice()), now=STAMPED_AT
    )

    with pytest.raises(DatabaseError, match=r"only moves forward|never deleted"):
        _raw(sql, [unit.pk])


def test_a_document_is_for_exactly_one_invoice_or_credit_note():
    invoice = _issued_invoice()
    with pytest.raises(DatabaseError, match="zatca_document_one_kind"):
        _raw(
            "INSERT INTO zatca_zatcadocument (tenant_id, uuid, pih, invoice_hash, qr, status,"
            " messages, attempts, last_error, created_at)"
            " VALUES (%s, gen_random_uuid(), '', '', '', 'pending', '[]', 0, '', now())",
            [invoice.tenant_id],
        )


def test_the_merchant_gets_the_zatca_block_and_the_xml_only_once_cleared(api, tenant):
    from testsupport.invoicing import with_tax_profile

    with_tax_profile(tenant)
    paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    make_active_egs()
    [document] = [d for d in _stamp_all() if d.invoice_id == invoice.pk]

    detail = api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert detail["zatca"] == {"uuid": str(document.uuid), "icv": 1, "status": "pending"}
    answer = api.get(f"/api/v1/invoices/{invoice.pk}/xml/")
    assert answer.status_code == 409
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/zatca-not-cleared")


def test_the_pdf_qr_is_the_stamped_documents_once_stamped():
    from fatoora.tlv import zatca_qr_decode, zatca_qr_decode_bytes
    from wasla.invoicing.documents.qr import zatca_qr_tlv
    from wasla.invoicing.rendering import invoice_document
    from wasla.invoicing.zatca.selectors import document_qr_payload

    invoice = _issued_invoice()
    assert document_qr_payload(issued=invoice) is None  # unstamped: the PDF prints tags 1-5
    make_active_egs()
    [document] = _stamp_all()
    invoice.refresh_from_db()

    payload = document_qr_payload(issued=invoice)
    assert payload == document.qr
    stamped = zatca_qr_decode_bytes(payload=payload)
    plain = zatca_qr_decode(payload=zatca_qr_tlv(document=invoice_document(invoice=invoice)))
    assert sorted(stamped) == list(range(1, 9))
    assert {tag: stamped[tag].decode() for tag in plain} == plain


def _stamp_all() -> list[ZatcaDocument]:
    zatca_stamp_pending(now=STAMPED_AT)
    return list(ZatcaDocument.objects.order_by("icv"))


def test_a_document_zatcas_rules_refuse_takes_no_icv_and_the_chain_goes_on(monkeypatch):
    """Written wrong (here: a buyer VAT number cut to 14 digits, BR-KSA-44), a document is
    refused before the unit's lock: it takes no ICV, stays waiting with the reason, and the
    next document chains to the last good hash, so the chain ZATCA sees stays unbroken."""
    unit = make_active_egs()
    bad, good = (ZatcaDocument.objects.get(invoice=_issued_invoice(a)) for a in ("100.00", "7.00"))
    buyer_vat = Invoice.objects.get(pk=bad.invoice_id).buyer_snapshot["vat_number"]
    written = stamping.unsigned_xml

    def miswritten(*, document: ZatcaDocument, chain: ChainLink) -> bytes:
        xml = written(document=document, chain=chain)
        if document.pk != bad.pk:
            return xml
        return xml.replace(buyer_vat.encode(), buyer_vat[:14].encode())

    monkeypatch.setattr(stamping, "unsigned_xml", miswritten)
    outcomes = zatca_stamp_pending(now=STAMPED_AT)

    assert [(o.document_id, o.outcome) for o in outcomes] == [
        (bad.pk, "failed"),
        (good.pk, "stamped"),
    ]
    assert "BR-KSA-44" in outcomes[0].detail
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.icv, bad.signed_xml) == (None, None)
    assert "BR-KSA-44" in bad.last_error
    assert (good.icv, good.pih) == (1, FIRST_PIH)
    unit.refresh_from_db()
    assert (unit.last_icv, unit.last_hash) == (1, good.invoice_hash)


def test_key_rotation_reencrypts_the_units_key_and_csids(settings):
    unit = make_active_egs()
    key_pem = unit.private_key_pem
    old_key = settings.WASLA_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.WASLA_ENCRYPTION_KEYS = [new_key, old_key]

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    settings.WASLA_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    rotated = EgsUnit.objects.get(pk=unit.pk)
    assert rotated.private_key_pem == key_pem
    assert rotated.production_token == unit.production_token
    assert rotated.production_secret == unit.production_secret
