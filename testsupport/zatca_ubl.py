"""ZATCA UBL helpers for tests: a document's place in the chain, ZATCA's sample documents,
and a validation report reduced to what a test compares."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

from django.conf import settings

from fatoora.validation import ValidationReport
from wasla.invoicing.zatca.ubl import ChainLink

# The PIH of an EGS unit's first document (base64 of the SHA-256 hex of "0"), as ZATCA's samples
# carry it.
FIRST_PIH = (
    "NWZlY2ViNjZmZmM4NmYzOGQ5NTI3ODZjNmQ2OTZjNzljMmRiYzIzOWRkNGU5MWI0NjcyOWQ3M2EyN2ZiNTdlOQ=="
)

SAMPLES = Path(settings.WASLA_ZATCA_RULES_DIR) / "samples"
SAMPLE_NAMES = (
    "Standard_Invoice",
    "Standard_Credit_Note",
    "Simplified_Invoice",
    "Simplified_Credit_Note",
)


def chain_link(icv: int = 1, uuid: UUID | None = None, pih: str = FIRST_PIH) -> ChainLink:
    return ChainLink(uuid=uuid or uuid4(), icv=icv, pih=pih)


def sample(name: str) -> bytes:
    """One of ZATCA's four SDK sample documents, as shipped (never edited)."""
    return (SAMPLES / f"{name}.xml").read_bytes()


def findings(report: ValidationReport) -> set[tuple[str, str, str]]:
    """(layer, severity, rule) of every result."""
    return {(r.layer, r.severity, r.rule) for r in report.results}
