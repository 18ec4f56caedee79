"""Stripe's test cards and test PaymentMethods that the billing flows understand.

Each card behaves as Stripe documents it (docs.stripe.com/testing):
- `4242424242424242` / `pm_card_visa`: attaches, sets up and charges successfully.
- `4000000000000002` / `pm_card_chargeDeclined`: declined (`generic_decline`) on every attempt,
  attaching it to a Customer included.
- `4000000000000341` / `pm_card_chargeCustomerFail`: attaches and sets up fine, but every charge
  is declined (`generic_decline`): the card a billing system must survive.
- `4000002760003184` / `pm_card_authenticationRequired`: requires 3-D Secure on every
  transaction, setting it up included; off-session charges fail with `authentication_required`.

A PaymentMethod row keeps only the card's name (`visa`, …), never a card number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

TOKEN_PREFIX: Final = "pm_card_"


class Charge(StrEnum):
    """What happens when a card is charged."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # on-session: 3-D Secure; off-session: authentication_required


@dataclass(frozen=True)
class Card:
    name: str  # the suffix of Stripe's test PaymentMethod id: pm_card_<name>
    number: str
    brand: str
    label: str | Promise  # shown on the setup page, in the page's language
    charge: Charge
    declines_setup: bool  # declined when attached to a Customer or saved through a SetupIntent
    setup_authenticates: bool  # saving it goes through 3-D Secure

    @property
    def token(self) -> str:
        return TOKEN_PREFIX + self.name

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        # Stable per card number, as Stripe's fingerprints are within an account.
        return f"sbx{self.brand.capitalize()}{self.last4}{self.name[:8]}"

    def summary(self) -> dict[str, str]:
        """The card as a charge records it: what `payment_method_details.card` shows."""
        return {"brand": self.brand, "last4": self.last4, "fingerprint": self.fingerprint}


CARDS: Final[tuple[Card, ...]] = (
    Card(
        name="visa",
        number="4242424242424242",
        brand="visa",
        label=gettext_lazy("Succeeds"),
        charge=Charge.SUCCEED,
        declines_setup=False,
        setup_authenticates=False,
    ),
    Card(
        name="chargeCustomerFail",
        number="4000000000000341",
        brand="visa",
        label=gettext_lazy("Saves, but every charge is declined"),
        charge=Charge.DECLINE,
        declines_setup=False,
        setup_authenticates=False,
    ),
    Card(
        name="authenticationRequired",
        number="4000002760003184",
        brand="visa",
        label=gettext_lazy("Always requires 3-D Secure"),
        charge=Charge.AUTHENTICATE,
        declines_setup=False,
        setup_authenticates=True,
    ),
    Card(
        name="chargeDeclined",
        number="4000000000000002",
        brand="visa",
        label=gettext_lazy("Always declined, even when saving"),
        charge=Charge.DECLINE,
        declines_setup=True,
        setup_authenticates=False,
    ),
)
BY_NAME: Final = {card.name: card for card in CARDS}
BY_NUMBER: Final = {card.number: card for card in CARDS}
BY_TOKEN: Final = {card.token: card for card in CARDS}


def card_named(name: str) -> Card:
    return BY_NAME[name]
