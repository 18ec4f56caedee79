"""An issued tax invoice (388) or credit note (381) as ZATCA UBL 2.1 XML, before its stamp.

ZATCA standard tax invoice (transaction code `0100000`, profile `reporting:1.0`), built with
lxml's element builder from the one `InvoiceDocument` the PDF and the QR read too; the document's
place in the EGS unit's chain (UUID, ICV, PIH) is given, not chosen here.

What the document says, and why:
- Issue date and time are Riyadh local time (no offset), as ZATCA reads them. An invoice carries
  its due date (BT-9) and its payment means: credit transfer (UNCL 4461 `30`) to Wasla's IBAN.
  A credit note refers to its invoice (BillingReference) and gives its reason in the payment
  means' InstructionNote (KSA-10); its means is `97`, clearing between partners: it lowers what
  the merchant owes, or becomes a credit used on the next invoices, nothing is paid out.
- The supply period is Delivery ActualDeliveryDate (KSA-5) and LatestDeliveryDate (KSA-24).
- Amounts are the document's own (positive, as ZATCA wants them on credit notes too), written
  with two decimals (ubl_parts: a KWD amount that needs a third is refused). No allowances:
  nothing is discounted. A merchant credit used at issue (money Wasla already owed the
  merchant) is the prepaid amount (BT-113), so payable = total with VAT - prepaid (BR-CO-16);
  it is not an allowance, which would lower the VAT base when the credit note that made the
  credit already gave that VAT back.
- Two TaxTotals: one with a TaxSubtotal per VAT rate in the document currency, and one with the
  VAT total alone in SAR (BT-111, ZATCA's tax currency). A document in another currency (KWD)
  needs the SAR exchange rate for that one: it is stated in TaxExchangeRate (KSA-36..39) and
  the VAT total converted once, ROUND_HALF_UP; without a rate the document is refused.
- Not here, because the signing step makes them: ext:UBLExtensions (first child of the root),
  the QR AdditionalDocumentReference (right after PIH) and cac:Signature (right after it, before
  the seller). The invoice hash ignores all three, so it can be computed on this output.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from lxml import etree

from wasla.common.money import is_exact, round_money
from wasla.invoicing.documents import InvoiceDocument

from .ubl_parts import CAC, CBC, INV, UblError, amount, invoice_line, party, tax_category

PROFILE_ID = "reporting:1.0"
# KSA-2: 01 standard tax invoice, then no third party, nominal, export, summary or self-billing.
STANDARD_TRANSACTION_CODE = "0100000"
TAX_CURRENCY = "SAR"
CREDIT_TRANSFER = "30"
CLEARING_BETWEEN_PARTNERS = "97"
_MAX_RATE_DIGITS = 14  # BR-KSA-90
ZERO = Decimal(0)

__all__ = ["ChainLink", "UblError", "ubl_document"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainLink:
    """The document's place in its EGS unit's chain: its UUID (KSA-1), its invoice counter
    value (ICV, KSA-16) and the previous invoice's hash (PIH, KSA-13, base64)."""

    uuid: UUID
    icv: int
    pih: str

    def __post_init__(self) -> None:
        if isinstance(self.icv, bool) or not isinstance(self.icv, int) or self.icv < 1:
            raise UblError(f"the ICV is a counter from 1, got {self.icv!r}")
        try:
            decoded = base64.b64decode(self.pih, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if not decoded:
            raise UblError(f"the PIH is the previous hash in base64, got {self.pih!r}")


def ubl_document(
    *,
    document: InvoiceDocument,
    chain: ChainLink,
    prepaid: Decimal = ZERO,
    sar_rate: Decimal | None = None,
) -> bytes:
    """The unsigned UBL 2.1 XML (UTF-8, with its declaration) of `document`.

    `prepaid` is the merchant credit used when the invoice was issued; `sar_rate` the SAR value
    of one unit of the document's currency, required when it is not SAR."""
    currency = document.currency
    if not isinstance(prepaid, Decimal) or not is_exact(prepaid, currency):
        raise UblError(f"the prepaid amount {prepaid!r} is not an amount of {currency}")
    if not ZERO <= prepaid <= document.total:
        raise UblError(f"the prepaid amount {prepaid} is not between 0 and {document.total}")
    if document.is_credit_note and prepaid:
        raise UblError("a credit note has no prepaid amount")
    root = INV.Invoice(
        *_header(document, chain),
        *_references(document, chain),
        CAC.AccountingSupplierParty(party(document.seller)),
        CAC.AccountingCustomerParty(party(document.buyer)),
        CAC.Delivery(
            CBC.ActualDeliveryDate(document.supply_start.isoformat()),
            CBC.LatestDeliveryDate(document.supply_end.isoformat()),
        ),
        _payment_means(document),
        *_tax(document, sar_rate),
        _monetary_total(document, prepaid),
        *(
            invoice_line(position, line, currency)
            for position, line in enumerate(document.lines, start=1)
        ),
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _header(document: InvoiceDocument, chain: ChainLink) -> list[etree._Element]:
    issued = document.issued_at_ksa
    header = [
        CBC.ProfileID(PROFILE_ID),
        CBC.ID(document.number),
        CBC.UUID(str(chain.uuid)),
        CBC.IssueDate(issued.date().isoformat()),
        CBC.IssueTime(issued.time().isoformat(timespec="seconds")),
    ]
    if document.due_date is not None:
        header.append(CBC.DueDate(document.due_date.isoformat()))
    return [
        *header,
        CBC.InvoiceTypeCode(document.kind.value, name=STANDARD_TRANSACTION_CODE),
        CBC.DocumentCurrencyCode(document.currency),
        CBC.TaxCurrencyCode(TAX_CURRENCY),
    ]


def _references(document: InvoiceDocument, chain: ChainLink) -> list[etree._Element]:
    references = []
    if document.credit_note_of is not None:
        references.append(
            CAC.BillingReference(
                CAC.InvoiceDocumentReference(
                    CBC.ID(document.credit_note_of.original_invoice_number)
                )
            )
        )
    return [
        *references,
        CAC.AdditionalDocumentReference(CBC.ID("ICV"), CBC.UUID(str(chain.icv))),
        CAC.AdditionalDocumentReference(
            CBC.ID("PIH"),
            CAC.Attachment(CBC.EmbeddedDocumentBinaryObject(chain.pih, mimeCode="text/plain")),
        ),
    ]


def _payment_means(document: InvoiceDocument) -> etree._Element:
    if document.credit_note_of is not None:
        return CAC.PaymentMeans(
            CBC.PaymentMeansCode(CLEARING_BETWEEN_PARTNERS),
            CBC.InstructionNote(document.credit_note_of.reason),
        )
    if document.payment is None:  # an InvoiceDocument tax invoice always has one
        raise UblError("a tax invoice has payment instructions")
    return CAC.PaymentMeans(
        CBC.PaymentMeansCode(CREDIT_TRANSFER),
        CAC.PayeeFinancialAccount(CBC.ID(document.payment.iban)),
    )


def _tax(document: InvoiceDocument, sar_rate: Decimal | None) -> list[etree._Element]:
    """TaxExchangeRate (another currency only), the SAR VAT total, the VAT breakdown."""
    currency = document.currency
    subtotals = [
        CAC.TaxSubtotal(
            amount("TaxableAmount", entry.taxable_amount, currency),
            amount("TaxAmount", entry.vat_amount, currency),
            tax_category(entry.rate),
        )
        for entry in document.vat_breakdown
    ]
    breakdown = CAC.TaxTotal(amount("TaxAmount", document.vat_total, currency), *subtotals)
    if currency == TAX_CURRENCY:
        return [CAC.TaxTotal(amount("TaxAmount", document.vat_total, currency)), breakdown]
    rate = _checked_rate(currency, sar_rate)
    return [
        CAC.TaxExchangeRate(
            CBC.SourceCurrencyCode(currency),
            CBC.TargetCurrencyCode(TAX_CURRENCY),
            CBC.CalculationRate(f"{rate:f}"),
            CBC.MathematicOperatorCode("Multiply"),
            CBC.Date(document.issued_at_ksa.date().isoformat()),
        ),
        CAC.TaxTotal(
            amount("TaxAmount", round_money(document.vat_total * rate, TAX_CURRENCY), TAX_CURRENCY)
        ),
        breakdown,
    ]


def _checked_rate(currency: str, sar_rate: Decimal | None) -> Decimal:
    if sar_rate is None:
        raise UblError(
            f"a {currency} document states its VAT total in SAR too (BT-111; ZATCA's tax "
            f"currency is SAR), which needs the SAR exchange rate of its issue date: none given"
        )
    if not isinstance(sar_rate, Decimal) or not sar_rate.is_finite() or sar_rate <= 0:
        raise UblError(f"the SAR exchange rate must be a positive Decimal, got {sar_rate!r}")
    if len(sar_rate.as_tuple().digits) > _MAX_RATE_DIGITS:
        raise UblError(f"the SAR exchange rate {sar_rate} has more than 14 digits (BR-KSA-90)")
    return sar_rate


def _monetary_total(document: InvoiceDocument, prepaid: Decimal) -> etree._Element:
    currency = document.currency
    return CAC.LegalMonetaryTotal(
        amount("LineExtensionAmount", document.subtotal, currency),
        amount("TaxExclusiveAmount", document.subtotal, currency),
        amount("TaxInclusiveAmount", document.total, currency),
        amount("AllowanceTotalAmount", ZERO, currency),
        amount("PrepaidAmount", prepaid, currency),
        amount("PayableAmount", document.total - prepaid, currency),
    )
