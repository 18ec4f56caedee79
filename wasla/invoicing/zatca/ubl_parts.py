"""The pieces of a ZATCA UBL 2.1 document that repeat: the namespaces, amounts, the seller and
buyer parties, the VAT category and the invoice lines.

No amount is computed here: the figures come from the `InvoiceDocument`, which has checked that
they add up. They are written with two decimals, whatever the currency: ZATCA applies EN 16931,
whose rules allow two (BR-DEC-*) and check the totals rounded to two (BR-CO-14, BR-CO-15 are
errors). A KWD amount with fils in its third decimal cannot be written without changing it, so
it is refused, never rounded: such a document cannot be cleared as it was issued.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree
from lxml.builder import ElementMaker

from wasla.invoicing.documents import DocumentLine, TaxParty

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
# The root declares `ext` too, as ZATCA's samples do: the signing step adds ext:UBLExtensions.
NSMAP = {None: NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC, "ext": NS_EXT}

INV = ElementMaker(namespace=NS_INVOICE, nsmap=NSMAP)
CAC = ElementMaker(namespace=NS_CAC, nsmap=NSMAP)
CBC = ElementMaker(namespace=NS_CBC, nsmap=NSMAP)

# UN/ECE Recommendation 20 "one": a line counts operations charged a fee, not goods.
UNIT_CODE = "C62"
STANDARD_RATED = "S"
ZATCA_AMOUNT_QUANTUM = Decimal("0.01")


class UblError(ValueError):
    """A document that cannot be written as a ZATCA standard tax invoice or credit note."""


def amount(tag: str, value: Decimal, currency: str) -> etree._Element:
    """`<cbc:{tag} currencyID="...">` with two decimals, e.g. `1234.00`."""
    written = value.quantize(ZATCA_AMOUNT_QUANTUM)
    if written != value:
        raise UblError(
            f"{tag} {value} {currency} has more than two decimals: ZATCA's rules (EN 16931) "
            f"take amounts to two decimals, so this document cannot be written as issued"
        )
    return getattr(CBC, tag)(f"{written:f}", currencyID=currency)


def rate_text(rate: Decimal) -> str:
    """A VAT rate in percent with two decimals (BR-KSA-DEC-02), e.g. `15.00`."""
    return f"{rate.quantize(Decimal('0.01')):f}"


def party(tax_party: TaxParty) -> etree._Element:
    """cac:Party: CRN, national address, VAT number and the Arabic legal name (the name the
    party is registered under with ZATCA, also QR tag 1 for the seller)."""
    address = tax_party.address
    return CAC.Party(
        CAC.PartyIdentification(CBC.ID(tax_party.cr_number, schemeID="CRN")),
        CAC.PostalAddress(
            CBC.StreetName(address.street),
            CBC.BuildingNumber(address.building_number),
            CBC.CitySubdivisionName(address.district),
            CBC.CityName(address.city),
            CBC.PostalZone(address.postal_code),
            CAC.Country(CBC.IdentificationCode(address.country)),
        ),
        CAC.PartyTaxScheme(CBC.CompanyID(tax_party.vat_number), CAC.TaxScheme(CBC.ID("VAT"))),
        CAC.PartyLegalEntity(CBC.RegistrationName(tax_party.legal_name_ar)),
    )


def tax_category(rate: Decimal, *, element: str = "TaxCategory") -> etree._Element:
    """The standard-rated VAT category (UNCL 5305 `S`) at `rate` percent.

    Wasla's fees are standard-rated services; a 0 % line would be zero-rated or exempt, which
    needs an exemption reason code the documents do not carry, so it is refused."""
    if rate <= 0:
        raise UblError(f"a {rate} % VAT rate is not standard-rated: no exemption reason to cite")
    if element == "TaxCategory":
        category_id = CBC.ID(STANDARD_RATED, schemeID="UN/ECE 5305", schemeAgencyID="6")
        scheme_id = CBC.ID("VAT", schemeID="UN/ECE 5153", schemeAgencyID="6")
    else:
        category_id, scheme_id = CBC.ID(STANDARD_RATED), CBC.ID("VAT")
    return getattr(CAC, element)(
        category_id, CBC.Percent(rate_text(rate)), CAC.TaxScheme(scheme_id)
    )


def invoice_line(position: int, line: DocumentLine, currency: str) -> etree._Element:
    """cac:InvoiceLine; its TaxTotal carries the line VAT (KSA-11) and the line amount with VAT
    in RoundingAmount (KSA-12, BR-KSA-51: net + VAT)."""
    return CAC.InvoiceLine(
        CBC.ID(str(position)),
        CBC.InvoicedQuantity(f"{line.quantity:f}", unitCode=UNIT_CODE),
        amount("LineExtensionAmount", line.net_amount, currency),
        CAC.TaxTotal(
            amount("TaxAmount", line.vat_amount, currency),
            amount("RoundingAmount", line.amount_with_vat, currency),
        ),
        CAC.Item(
            CBC.Name(f"{line.description_ar} | {line.description_en}"),
            tax_category(line.vat_rate, element="ClassifiedTaxCategory"),
        ),
        CAC.Price(amount("PriceAmount", line.unit_price, currency)),
    )
