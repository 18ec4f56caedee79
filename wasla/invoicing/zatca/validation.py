"""Wasla's documents checked by ZATCA's rules: `fatoora`'s validator with the rule files of
`settings.WASLA_ZATCA_RULES_DIR` (ZATCA's, never edited)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings

from fatoora.validation import Check, ValidationReport, standard_checks, zatca_validate


def document_validate(*, xml: bytes, extra: Sequence[Check] = ()) -> ValidationReport:
    """The `xsd`, `en` and `ksa` findings of `xml`, then those of the `extra` checks."""
    rules = Path(settings.WASLA_ZATCA_RULES_DIR)
    return zatca_validate(xml=xml, checks=(*standard_checks(rules), *extra))
