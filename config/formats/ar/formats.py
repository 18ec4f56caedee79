"""Arabic number formats as Saudi invoices and bank statements write them: Latin digits, a point
before the decimals and a comma between thousands (Django's own Arabic formats use a decimal
comma, which would turn 2.30 SAR into "2,30" in the admin and its forms). Dates keep Django's
Arabic formats."""

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
