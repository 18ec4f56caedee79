"""`manage.py zatca_validate FILE.xml [--json]`: the report as text or JSON, exit 0 when no rule
reports an error, 1 when one does, 2 when the file cannot be read or is not XML."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from testsupport.zatca_ubl import sample


def _file(tmp_path: Path, content: bytes, name: str = "document.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _broken() -> bytes:
    return sample("Standard_Invoice").replace(
        b'TaxInclusiveAmount currencyID="SAR">4.60<', b'TaxInclusiveAmount currencyID="SAR">4.70<'
    )


def test_json_report_of_a_valid_document(tmp_path: Path):
    out = StringIO()

    call_command(
        "zatca_validate", str(_file(tmp_path, sample("Simplified_Invoice"))), "--json", stdout=out
    )

    assert json.loads(out.getvalue()) == {
        "valid": True,
        "results": [
            {
                "layer": "ksa",
                "severity": "warning",
                "rule": "BR-KSA-98",
                "message": "[BR-KSA-98] - The simplified invoice should be submitted within 24 "
                "hours of issuing the invoice.",
            }
        ],
    }


def test_json_report_of_an_invalid_document_exits_1(tmp_path: Path):
    out = StringIO()

    with pytest.raises(CommandError, match="3 error") as raised:
        call_command("zatca_validate", str(_file(tmp_path, _broken())), "--json", stdout=out)

    assert raised.value.returncode == 1
    report = json.loads(out.getvalue())
    assert report["valid"] is False
    assert [(r["layer"], r["severity"], r["rule"]) for r in report["results"]] == [
        ("en", "error", "BR-CO-15"),
        ("en", "warning", "BR-CO-16"),
        # The sample is stamped: its changed total no longer matches its hash nor its QR.
        ("qr", "error", "QR-TAG-4"),
        ("signature", "error", "SIGNATURE-INVOICE-HASH"),
    ]


def test_text_report(tmp_path: Path):
    out = StringIO()
    path = _file(tmp_path, _broken())

    with pytest.raises(CommandError):
        call_command("zatca_validate", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == f"{path}: NOT valid (3 error(s), 1 warning(s))"
    assert lines[1].split()[:3] == ["ERROR", "en", "BR-CO-15:"]
    assert lines[2].split()[:3] == ["WARNING", "en", "BR-CO-16:"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"<Invoice><cbc:ID>", "not well-formed XML")],
    ids=["missing", "malformed"],
)
def test_an_unreadable_file_exits_2(tmp_path: Path, content: bytes | None, message: str):
    path = tmp_path / "document.xml" if content is None else _file(tmp_path, content)
    out = StringIO()

    with pytest.raises(CommandError, match=message) as raised:
        call_command("zatca_validate", str(path), "--json", stdout=out)

    assert raised.value.returncode == 2
    assert out.getvalue() == ""


def test_the_exit_status_of_the_process(tmp_path: Path):
    """As a shell or CI sees it: 0 valid, 1 an error, 2 not XML."""
    cases = {
        0: _file(tmp_path, sample("Standard_Credit_Note"), "valid.xml"),
        1: _file(tmp_path, _broken(), "invalid.xml"),
        2: _file(tmp_path, b"{}", "not-xml.xml"),
    }
    manage = Path(settings.BASE_DIR) / "manage.py"
    for status, path in cases.items():
        run = subprocess.run(
            [sys.executable, str(manage), "zatca_validate", str(path), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == status, run.stderr
        if status < 2:
            assert json.loads(run.stdout)["valid"] is (status == 0)


@pytest.mark.parametrize(
    "name",
    ["Standard_Invoice", "Standard_Credit_Note", "Simplified_Invoice", "Simplified_Credit_Note"],
)
def test_the_sdk_samples_pass_their_qr_and_signature_checks(tmp_path: Path, name: str):
    out = StringIO()
    call_command("zatca_validate", str(_file(tmp_path, sample(name))), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["valid"] is True
    assert {r["layer"] for r in report["results"]} <= {"ksa"}  # the samples' own warnings


def test_a_stamped_file_with_a_changed_amount_fails_its_signature_and_qr(tmp_path: Path):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("zatca_validate", str(_file(tmp_path, _broken())), "--json", stdout=out)
    failed = {(r["layer"], r["rule"]) for r in json.loads(out.getvalue())["results"]}
    assert {("signature", "SIGNATURE-INVOICE-HASH"), ("qr", "QR-TAG-4")} <= failed
