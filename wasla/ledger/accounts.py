"""The per-tenant chart of accounts, named so each code is a valid Beancount account.

Beancount account components start with a capital letter or a digit and contain only letters,
digits and dashes. A tenant slug may start lowercase and contain `_` or capitals, so the slug is
turned into a component:
- a plain slug (lowercase letters, digits, dashes, starting with a letter or digit) only gets its
  first letter capitalised: `acme-store` → `Acme-store`. Plain slugs never contain a capital after
  the first character, so this is one-to-one among them;
- any other slug is cleaned to letters, digits and dashes and tagged `-X<hash>` (a capital after
  the first character, which no plain slug produces), so it cannot collide with a plain one.
"""

from __future__ import annotations

import hashlib
import re
from enum import Enum

from .models import LedgerAccount

_PLAIN_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_NOT_COMPONENT = re.compile(r"[^A-Za-z0-9-]+")


def account_component(slug: str) -> str:
    """The Beancount account component that stands for a tenant slug."""
    if _PLAIN_SLUG.fullmatch(slug):
        return slug[0].upper() + slug[1:]
    cleaned = _NOT_COMPONENT.sub("-", slug).strip("-") or "T"
    digest = hashlib.sha256(slug.encode()).hexdigest()[:10]
    return f"{cleaned[0].upper()}{cleaned[1:]}-X{digest}"


class AccountRole(Enum):
    """(code pattern, account type) of each account a tenant has."""

    UNBILLED = ("Assets:Merchants:{c}:Unbilled", LedgerAccount.Type.ASSET)
    RECEIVABLE = ("Assets:Merchants:{c}:Receivable", LedgerAccount.Type.ASSET)
    FEE_INCOME = ("Income:Fees:{c}", LedgerAccount.Type.INCOME)
    VAT_OUTPUT = ("Liabilities:VAT:Output:{c}", LedgerAccount.Type.LIABILITY)
    BANK = ("Assets:Bank:{c}", LedgerAccount.Type.ASSET)
    STRIPE_CLEARING = ("Assets:StripeClearing:{c}", LedgerAccount.Type.ASSET)

    @property
    def account_type(self) -> LedgerAccount.Type:
        return self.value[1]

    def code_for(self, slug: str) -> str:
        return self.value[0].format(c=account_component(slug))
