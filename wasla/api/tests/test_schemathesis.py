"""Every operation of the published OpenAPI schema, fuzzed by schemathesis against the running
app: no response is a server error, and every response matches what the schema says of it.

Bounded and repeatable: a few examples per operation, derandomized, no deadline. Requests go
over real HTTP to the live server (the sandbox providers are served there too), with a real
tenant's API token and a fresh Idempotency-Key per request. Path ids are sometimes swapped for
the tenant's own objects, so the success responses are checked as well as the 404s.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from testsupport.credit_notes import issued_credit_note
from testsupport.factories import make_attempt, make_cod_config, make_order
from testsupport.invoicing import paid_payment_at, riyadh, run_month, with_tax_profile
from wasla.tenants.services import api_token_create

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def merchant(sandbox, tenant):  # type: ignore[no-untyped-def]
    """The tenant's token and real ids for the path parameters that take one."""
    cod = make_cod_config(tenant)
    attempt = make_attempt(cod)
    _, token = api_token_create(tenant=tenant, name="schemathesis")
    paid_payment_at(with_tax_profile(tenant), riyadh(2026, 1, 10))
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10))
    ids = {
        "order_id": [str(make_order(tenant).pk), str(attempt.order_id)],
        "payment_id": [str(attempt.pk)],
        "provider": ["tap", "cod"],
        "invoice_id": [invoice.pk],
        "credit_note_id": [note.pk],
    }
    return token, ids


def test_every_operation_conforms_and_never_answers_5xx(sandbox, merchant):  # type: ignore[no-untyped-def]
    token, ids = merchant
    schema = schemathesis.openapi.from_url(f"{sandbox}/api/schema/")
    session = requests.Session()
    examples: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 21  # every route and method of the merchant API

    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy(), own=st.data())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case, own):  # type: ignore[no-untyped-def]
            for name in case.path_parameters or {}:
                if name in ids and own.draw(st.booleans(), label=f"own {name}"):
                    case.path_parameters[name] = own.draw(st.sampled_from(ids[name]))
            headers = {"Authorization": f"Bearer {token}"}
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = "st-" + uuid.uuid4().hex
            response = case.call(base_url=sandbox, session=session, headers=headers)
            case.validate_response(response, checks=CHECKS)
            examples[label] += 1  # noqa: B023 (run is called within this iteration)

        run()

    assert set(examples) == {f"{op.method.upper()} {op.path}" for op in operations}
    print(f"schemathesis: {len(operations)} operations, {sum(examples.values())} requests")
