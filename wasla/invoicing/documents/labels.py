"""Every label printed on an invoice or credit note, as an English msgid.

The documents are bilingual whatever the reader's language: each label is printed in English
and in Arabic (from this package's `ar` catalog) by the `label` template tag. Listing them
here with `gettext_noop` keeps them in `makemessages` and lets the tag refuse a label nobody
will translate.
"""

from django.utils.translation import gettext_noop

LABELS: frozenset[str] = frozenset(
    {
        gettext_noop("Tax Invoice"),
        gettext_noop("Credit Note"),
        gettext_noop("Invoice number"),
        gettext_noop("Credit note number"),
        gettext_noop("Issue date"),
        gettext_noop("Supply period"),
        gettext_noop("Due date"),
        gettext_noop("Original invoice"),
        gettext_noop("Reason"),
        gettext_noop("Seller"),
        gettext_noop("Buyer"),
        gettext_noop("Name"),
        gettext_noop("VAT number"),
        gettext_noop("CR number"),
        gettext_noop("Building number"),
        gettext_noop("Street"),
        gettext_noop("District"),
        gettext_noop("City"),
        gettext_noop("Postal code"),
        gettext_noop("Country"),
        gettext_noop("Description"),
        gettext_noop("Quantity"),
        gettext_noop("Unit price"),
        gettext_noop("Net amount"),
        gettext_noop("VAT rate"),
        gettext_noop("VAT amount"),
        gettext_noop("Total incl. VAT"),
        gettext_noop("VAT breakdown"),
        gettext_noop("Taxable amount"),
        gettext_noop("Subtotal excl. VAT"),
        gettext_noop("Total VAT"),
        gettext_noop("Amount paid"),
        gettext_noop("Credited by credit notes"),
        gettext_noop("Credit applied"),
        gettext_noop("Amount due"),
        gettext_noop("Payment instructions"),
        gettext_noop("Bank"),
        gettext_noop("IBAN"),
        gettext_noop("Page"),
    }
)
