"""The three settings lists run a fixed number of queries, whatever the number of rows: the page
with 10 rows costs what the page with 2 does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from testsupport.factories import make_gateway_config, make_tenant
from wasla.portal.tests.settings_support import client_for, make_member
from wasla.tenants.models import Tenant
from wasla.tenants.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

PROVIDERS = ["tap", "stripe", "paypal", "cod", "plugin-a"]


def gateways(tenant: Tenant, n: int) -> None:
    # At most one config per provider and mode: plug-in providers make up the count.
    for i in range(n):
        provider = PROVIDERS[i // 2] if i // 2 < len(PROVIDERS) else f"plugin-{i}"
        make_gateway_config(tenant, provider, mode=("sandbox", "live")[i % 2])


def tokens(tenant: Tenant, n: int) -> None:
    for i in range(n):
        token, _ = api_token_create(tenant=tenant, name=f"token {i}")
        if i % 3 == 0:
            api_token_revoke(token=token)


def members(tenant: Tenant, n: int) -> None:
    for i in range(n - 1):  # the signed-in owner is the first row
        make_member(tenant, ("finance", "viewer", "owner")[i % 3])


def queries_for(url_name: str, fill: Callable[[Tenant, int], None], rows: int) -> int:
    tenant = make_tenant()
    fill(tenant, rows)
    client = client_for(tenant)
    client.get(reverse(url_name))  # warm the session and the language cookie
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(url_name))
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url_name", "fill"),
    [("portal:gateways", gateways), ("portal:tokens", tokens), ("portal:team", members)],
)
def test_list_pages_run_a_fixed_number_of_queries(url_name, fill):
    few, many = queries_for(url_name, fill, 2), queries_for(url_name, fill, 10)
    assert few == many
    # 8 queries, and the SAVEPOINT and RELEASE of the page's read transaction (BEGIN and COMMIT
    # in production: wasla/common/db/reads.py).
    assert many <= 10, f"{url_name}: {many} queries"
