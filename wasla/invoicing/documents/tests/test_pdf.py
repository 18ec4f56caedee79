"""The PDF as a reader and a phone see it: Poppler extracts its text and renders the page,
zbar scans the QR off that picture. Screenshots are kept in var/screenshots/ to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from fatoora.tlv import zatca_qr_decode
from testsupport.documents import make_credit_note, make_invoice, make_line
from wasla.invoicing.documents.document import InvoiceDocument
from wasla.invoicing.documents.pdf import document_pdf

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# pdftotext wraps right-to-left runs in bidi embedding marks; the words are between them.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _text(pdf: Path) -> str:
    return _BIDI_MARKS.sub("", _run("pdftotext", "-layout", str(pdf), "-"))


def _render(tmp_path: Path, document: InvoiceDocument, screenshot: str) -> tuple[Path, Path]:
    pdf = tmp_path / f"{screenshot}.pdf"
    pdf.write_bytes(document_pdf(document=document))
    _run(
        "pdftoppm",
        "-png",
        "-r",
        "100",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(pdf),
        str(tmp_path / screenshot),
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS / f"{screenshot}.png"
    shutil.copyfile(tmp_path / f"{screenshot}.png", png)
    return pdf, png


def _scan_qr(png: Path) -> dict[int, str]:
    payloads = _run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png))
    lines = payloads.split()
    assert len(lines) == 1, f"expected one QR on the page, found {len(lines)}"
    return zatca_qr_decode(payload=lines[0])


def test_invoice_pdf_prints_number_title_parties_and_totals(tmp_path: Path) -> None:
    pdf, png = _render(tmp_path, make_invoice(), "invoice_pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = _text(pdf)
    assert "INV-000001" in text
    assert "Tax Invoice" in text
    assert "فاتورة" in text
    assert "ضريبية" in text
    for words in ("رقم الفاتورة", "البائع", "المشتري", "المبلغ المستحق", "رسوم العمليات"):
        assert words in text, words
    for party in (
        "Wasla Payments Co.",
        "310122393500003",
        "Al Nakheel Trading Est.",
        "300075588700003",
        "مؤسسة النخيل للتجارة",
    ):
        assert party in text, party
    for figure in (
        "1234.00 SAR",
        "185.10 SAR",
        "1419.10 SAR",
        "276.00 SAR",
        "41.40 SAR",
        "1510.00 SAR",
        "226.50 SAR",
        "1736.50 SAR",
        "0.00 SAR",
    ):
        assert figure in text, figure
    assert "2025-01-01 \u2013 2025-01-31" in text
    assert "2025-02-01 09:30" in text
    assert "SA0380000000608010167519" in text
    assert "Credit Note" not in text
    assert png.stat().st_size > 10_000


def test_invoice_pdf_qr_scans_to_the_documents_fields(tmp_path: Path) -> None:
    _pdf, png = _render(tmp_path, make_invoice(), "invoice_pdf")
    assert _scan_qr(png) == {
        1: "شركة وصلة للمدفوعات",
        2: "310122393500003",
        3: "2025-02-01T09:30:15",
        4: "1736.50",
        5: "226.50",
    }


def test_credit_note_pdf_names_its_original_invoice_and_scans(tmp_path: Path) -> None:
    pdf, png = _render(tmp_path, make_credit_note(), "credit_note_pdf")
    text = _text(pdf)
    assert "CN-000001" in text
    assert "Credit Note" in text
    assert "Tax Invoice" not in text
    assert "إشعار" in text
    assert "دائن" in text
    assert "INV-000001" in text
    assert "Fees reduced for payments refunded after invoicing" in text
    # 12 x 1.00 = 12.00, VAT 1.80, total 13.80; nothing is "due" on a credit note.
    for figure in ("12.00 SAR", "1.80 SAR", "13.80 SAR"):
        assert figure in text, figure
    assert "Amount due" not in text
    assert _scan_qr(png) == {
        1: "شركة وصلة للمدفوعات",
        2: "310122393500003",
        3: "2025-02-20T12:00:00",
        4: "13.80",
        5: "1.80",
    }


def test_arabic_is_set_in_an_arabic_font_not_a_fallback(tmp_path: Path) -> None:
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(document_pdf(document=make_invoice()))
    # pdffonts lists "ABCDEF+Noto-Sans-Arabic" per embedded subset, after a two-line header.
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    fonts = {row.split()[0].split("+", 1)[1] for row in rows}
    assert {"Noto-Sans-Arabic", "Noto-Sans-Arabic-Bold", "Noto-Sans"} <= fonts
    # Nothing fell back to another family (a glyph missing from the fonts the CSS names).
    assert all(font.startswith("Noto-Sans") for font in fonts), fonts


@pytest.mark.parametrize("lines", [1, 40])
def test_long_invoices_flow_onto_more_pages_with_every_line(tmp_path: Path, lines: int) -> None:
    document = make_invoice(
        lines=tuple(make_line(description_en=f"Fee line {n}") for n in range(1, lines + 1))
    )
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(document_pdf(document=document))
    text = _text(pdf)
    assert all(f"Fee line {n}" in text for n in range(1, lines + 1))
    pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf))).group(1))  # type: ignore[union-attr]
    assert (pages == 1) is (lines == 1)
    assert f"Page {pages} / {pages}" in text
