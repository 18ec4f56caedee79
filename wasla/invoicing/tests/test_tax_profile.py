"""A tenant is invoiced only with a complete, valid tax profile; Wasla's seller profile comes
from settings and passes the same checks."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from testsupport.factories import make_tenant
from testsupport.invoicing import TAX_PROFILE, with_tax_profile
from wasla.invoicing.seller import seller_profile
from wasla.tenants.tax_profile import tenant_tax_profile_problems

pytestmark = pytest.mark.django_db


def test_a_new_tenant_lists_everything_missing_but_the_default_country():
    assert tenant_tax_profile_problems(make_tenant()) == [
        "legal name (Arabic) is missing",
        "legal name (English) is missing",
        "VAT registration number is missing",
        "commercial registration number is missing",
        "building number is missing",
        "street is missing",
        "district is missing",
        "city is missing",
        "postal code is missing",
    ]


def test_a_complete_profile_has_no_problems():
    assert tenant_tax_profile_problems(with_tax_profile(make_tenant())) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vat_number", "310122393500004"),  # does not end with 3
        ("vat_number", "210122393500003"),  # does not start with 3
        ("vat_number", "31012239350003"),  # 14 digits
        ("cr_number", "101010101"),
        ("cr_number", "10101010A0"),
        ("building_number", "743"),
        ("postal_code", "2343"),
        ("country_code", "sa"),
    ],
)
def test_a_malformed_field_is_listed_and_refused_by_model_validation(field, value):
    tenant = with_tax_profile(make_tenant(), **{field: value})
    problems = tenant_tax_profile_problems(tenant)
    assert len(problems) == 1
    assert "is invalid" in problems[0]
    with pytest.raises(ValidationError) as refused:
        tenant.full_clean()
    assert set(refused.value.message_dict) == {field}


def test_the_sample_profile_passes_model_validation():
    with_tax_profile(make_tenant()).full_clean()
    assert TAX_PROFILE["country_code"] == "SA"


def test_the_seller_profile_comes_from_settings(settings):
    assert seller_profile().problems() == []
    assert seller_profile().vat_number == settings.WASLA_SELLER["vat_number"]
    settings.WASLA_SELLER = {**settings.WASLA_SELLER, "iban": "", "vat_number": "123"}
    assert seller_profile().problems() == [
        "VAT registration number is invalid: A VAT registration number is 15 digits starting"
        " and ending with 3.",
        "IBAN is missing",
    ]
