"""Wasla as the seller on its invoices: its tax profile and IBAN, from settings."""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.conf import settings
from django.core.exceptions import ValidationError

from wasla.tenants.tax_profile import iban_validator, tax_profile_problems


@dataclass(frozen=True)
class SellerProfile:
    legal_name_ar: str
    legal_name_en: str
    vat_number: str
    cr_number: str
    building_number: str
    street: str
    district: str
    city: str
    postal_code: str
    country_code: str
    iban: str

    def problems(self) -> list[str]:
        """What is missing or invalid (empty: fit to appear on an invoice)."""
        found = tax_profile_problems(self.__dict__)
        if not self.iban:
            found.append("IBAN is missing")
        else:
            try:
                iban_validator(self.iban)
            except ValidationError as error:
                found.append(f"IBAN is invalid: {' '.join(error.messages)}")
        return found


def seller_profile() -> SellerProfile:
    """The seller profile configured in `WASLA_SELLER` (see `.env.example`)."""
    configured = settings.WASLA_SELLER
    return SellerProfile(**{f.name: str(configured.get(f.name, "")) for f in fields(SellerProfile)})
