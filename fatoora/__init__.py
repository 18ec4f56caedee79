"""ZATCA e-invoicing (FATOORA phase 2) as a plain library: the rules of the format, not Wasla's.

The invoice hash (`hashing`), the stamp (`signing`, `verifying`, `certificates`), the QR
(`tlv`, `qr`) and the validator with ZATCA's own rule files (`rules`, `validation`). It knows
nothing of Django, Wasla or the simulators: the product (`wasla.invoicing.zatca`) uses it to
make and check its documents, and the ZATCA simulator (`sandbox.zatca_sim`) uses it as ZATCA's
side uses its SDK, so both read the same rules. The import contracts keep it that way.
"""
