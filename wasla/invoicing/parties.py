"""The parties of an issued document as they stood at its issue: snapshots of the tenant's tax
profile (the buyer) and of Wasla's seller profile with its IBAN (the seller).

Issuing an invoice or a credit note copies both into the document (JSON columns the database
freezes with it), and every rendering reads the copies: editing a tax profile or the seller
settings later never changes an issued document.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from wasla.tenants.tax_profile import TAX_PROFILE_FIELDS

from .seller import SellerProfile, seller_profile

PartySnapshot = dict[str, str]


def buyer_snapshot(tenant: Any) -> PartySnapshot:
    """The tenant's tax profile fields, as text (a migration passes its historical model)."""
    return {name: str(getattr(tenant, name) or "") for name in TAX_PROFILE_FIELDS}


def seller_snapshot(profile: SellerProfile | None = None) -> PartySnapshot:
    """Wasla's seller profile (settings), IBAN included."""
    return asdict(profile or seller_profile())
