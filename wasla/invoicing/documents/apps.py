from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoiceDocumentsConfig(AppConfig):
    """Installed so Django finds this package's templates, template tags and Arabic catalog;
    it has no models (the invoicing app feeds it plain dataclasses)."""

    name = "wasla.invoicing.documents"
    label = "invoicing_documents"
    verbose_name = _("Invoice documents")
