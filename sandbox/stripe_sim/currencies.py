"""Currencies the simulated account accepts, and how many decimals each one's minor unit has.

Amounts travel in minor units (`unit_amount=1000` is SAR 10.00); the exponent only matters for
showing them on the hosted page. The list is the set Stripe names in its "Invalid currency" error.
"""

from __future__ import annotations

from typing import Final


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


SUPPORTED_CURRENCIES: Final = _codes(
    """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp
    byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip
    gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt
    lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr
    nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd
    szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw
    """
)
# Stripe's zero-decimal and three-decimal currencies; every other one has two decimals.
ZERO_DECIMAL: Final = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")
THREE_DECIMAL: Final = _codes("bhd jod kwd omr tnd")


def currency_normalize(code: str) -> str | None:
    """Lower-case ISO code if supported (Stripe accepts either case), else None."""
    lowered = code.lower()
    return lowered if lowered in SUPPORTED_CURRENCIES else None


def currency_exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def amount_display(amount: int, currency: str) -> str:
    """Minor units as the customer reads them: (1050, "sar") -> "SAR 10.50"."""
    exponent = currency_exponent(currency)
    units, minor = divmod(amount, 10**exponent)
    text = f"{units:,}" if exponent == 0 else f"{units:,}.{minor:0{exponent}d}"
    return f"{currency.upper()} {text}"
