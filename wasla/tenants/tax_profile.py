"""The tax profile a seller or buyer needs on a Saudi tax invoice, and how to tell it is complete.

A merchant (the buyer of Wasla's services) is invoiced only once its profile is complete and
valid; Wasla's own seller profile comes from settings and is checked by the same validators.
The validators sit on the model fields too, so the admin refuses a malformed value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# ZATCA: 15 digits, the first and the last being 3.
vat_number_validator = RegexValidator(
    r"^3[0-9]{13}3$", "A VAT registration number is 15 digits starting and ending with 3."
)
cr_number_validator = RegexValidator(
    r"^[0-9]{10}$", "A commercial registration number is 10 digits."
)
building_number_validator = RegexValidator(r"^[0-9]{4}$", "A building number is 4 digits.")
postal_code_validator = RegexValidator(r"^[0-9]{5}$", "A postal code is 5 digits.")
country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", "A country code is two capital letters (ISO 3166-1 alpha-2)."
)
iban_validator = RegexValidator(
    r"^SA[0-9]{2}[0-9A-Z]{20}$", "A Saudi IBAN is SA, 2 check digits and 20 characters."
)

# Field name -> (what a person calls it, its validators), in the order a form shows them.
TAX_PROFILE_FIELDS: dict[str, tuple[str, list[Callable[[Any], None]]]] = {
    "legal_name_ar": ("legal name (Arabic)", []),
    "legal_name_en": ("legal name (English)", []),
    "vat_number": ("VAT registration number", [vat_number_validator]),
    "cr_number": ("commercial registration number", [cr_number_validator]),
    "building_number": ("building number", [building_number_validator]),
    "street": ("street", []),
    "district": ("district", []),
    "city": ("city", []),
    "postal_code": ("postal code", [postal_code_validator]),
    "country_code": ("country code", [country_code_validator]),
}


def tax_profile_problems(values: Mapping[str, object]) -> list[str]:
    """What is missing or invalid among `values` (field name -> value); empty when complete."""
    problems: list[str] = []
    for name, (label, validators) in TAX_PROFILE_FIELDS.items():
        value = str(values.get(name) or "").strip()
        if not value:
            problems.append(f"{label} is missing")
            continue
        for validate in validators:
            try:
                validate(value)
            except ValidationError as error:
                problems.append(f"{label} is invalid: {' '.join(error.messages)}")
    return problems


def tenant_tax_profile_problems(tenant: Any) -> list[str]:
    """What keeps `tenant` from being invoiced (empty: its tax profile is complete)."""
    return tax_profile_problems({name: getattr(tenant, name) for name in TAX_PROFILE_FIELDS})
