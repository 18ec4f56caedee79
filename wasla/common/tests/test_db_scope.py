"""The database backend learns the tenant scope only through the source tenants registers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from testsupport.factories import make_tenant
from wasla.common.db import scope as db_scope
from wasla.tenants.context import current_scope, tenant_context
from wasla.tenants.models import ApiToken
from wasla.tenants.services import api_token_create


@pytest.fixture
def source_restored() -> Iterator[None]:
    registered = db_scope._source
    yield
    db_scope.database_scope_source_set(registered)


def test_the_tenants_app_registers_its_scope_as_the_source() -> None:
    assert db_scope._source is current_scope


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("source_restored")
def test_the_database_sees_only_what_the_source_says() -> None:
    tenant = make_tenant()
    api_token_create(tenant=tenant, name="seen")
    with tenant_context(tenant.pk), transaction.atomic():
        assert ApiToken.objects.count() == 1
    # A source that knows no scope: the same tenant context reads nothing (fail closed).
    db_scope.database_scope_source_set(lambda: None)
    with tenant_context(tenant.pk), transaction.atomic():
        assert ApiToken.objects.count() == 0
