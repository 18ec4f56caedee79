"""The bank an IBAN belongs to, for the payment instructions printed on an invoice.

A Saudi IBAN carries its bank in characters 5-6 (SAMA's bank identifiers). Wasla's own IBAN is
configured (`WASLA_SELLER_IBAN`); its bank's name is read from it here rather than configured
twice, so the two cannot disagree.
"""

from __future__ import annotations

# SAMA bank identifiers of the Saudi banks (IBAN characters 5-6) -> the bank's name.
SAUDI_BANKS = {
    "05": "Alinma Bank",
    "10": "The Saudi National Bank",
    "15": "Bank Albilad",
    "20": "Riyad Bank",
    "30": "Arab National Bank",
    "45": "Saudi Awwal Bank",
    "55": "Banque Saudi Fransi",
    "60": "Bank AlJazira",
    "65": "The Saudi Investment Bank",
    "80": "Al Rajhi Bank",
}


class UnknownBank(LookupError):
    pass


def bank_name_for_iban(iban: str) -> str:
    """The name of the Saudi bank holding `iban`; UnknownBank for a code not listed."""
    if not iban.startswith("SA") or len(iban) < 6:
        raise UnknownBank(f"not a Saudi IBAN: {iban[:4]!r}…")
    code = iban[4:6]
    try:
        return SAUDI_BANKS[code]
    except KeyError:
        raise UnknownBank(f"no Saudi bank with the identifier {code!r} is listed") from None
