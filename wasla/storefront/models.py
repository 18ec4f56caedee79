"""Demo storefront products: what the example checkout sells."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wasla.tenants.models import TenantOwned


class Product(TenantOwned):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3, default="SAR")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive")
        ]

    def __str__(self) -> str:
        return self.name
