"""Validate a ZATCA UBL 2.1 document against ZATCA's rules: the UBL 2.1 XSD, the CEN EN 16931
schematron and ZATCA's KSA schematron; for a stamped document, its QR and its signature too
(hash, signed properties, certificate, signature value).

Exit status: 0 when no rule reports an error (warnings may be listed), 1 when one does, 2 when
the file cannot be read or is not well-formed XML (nothing was validated).
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fatoora.rules import RulesUnavailable
from fatoora.validation import UnreadableDocument, ValidationReport
from wasla.invoicing.zatca.checks import stamp_checks_if_stamped
from wasla.invoicing.zatca.validation import document_validate

UNREADABLE = 2


class Command(BaseCommand):
    help = "Validate a ZATCA UBL 2.1 invoice or credit note (XSD, EN 16931 and KSA rules)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the XML document")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            xml = path.read_bytes()
        except OSError as error:
            raise CommandError(
                f"cannot read {path}: {error.strerror}", returncode=UNREADABLE
            ) from None
        try:
            report = document_validate(xml=xml, extra=stamp_checks_if_stamped(xml=xml))
        except UnreadableDocument as error:
            raise CommandError(f"{path}: {error}", returncode=UNREADABLE) from None
        except RulesUnavailable as error:
            raise CommandError(str(error), returncode=UNREADABLE) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(_text(path, report))
        if not report.valid:
            raise CommandError(f"{path}: {len(report.errors)} error(s)", returncode=1)


def _text(path: Path, report: ValidationReport) -> str:
    verdict = "valid" if report.valid else "NOT valid"
    lines = [
        f"{path}: {verdict} ({len(report.errors)} error(s), {len(report.warnings)} warning(s))"
    ]
    lines += [f"  {r.severity.upper():7} {r.layer:9} {r.rule}: {r.message}" for r in report.results]
    return "\n".join(lines)
