"""The landing page `/`: where a visitor of the demo finds the stores and the back offices.

The stores are read through one narrow lookup (`public_stores`, a SECURITY DEFINER function on
PostgreSQL) that returns only the slug and the shop name of active tenants with products: an
anonymous page needs no tenant scope and no platform access, so a visit writes no audit row.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wasla.tenants.lookups import public_stores


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    stores = [{"slug": slug, "name": name} for slug, name in public_stores()]
    return render(request, "storefront/landing.html", {"stores": stores})
