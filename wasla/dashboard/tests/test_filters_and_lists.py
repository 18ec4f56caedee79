"""Filters on every page: bad values get the form's error and a 400, never a 500; the drill-down
lists page by keyset and link each row to the admin."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from testsupport.factories import make_attempt, make_order
from testsupport.payments import gateway
from wasla.dashboard import selectors
from wasla.dashboard.forms import DEFAULT_DAYS, today_riyadh
from wasla.dashboard.labels import LABELS
from wasla.invoicing.models import Invoice
from wasla.payments.models import AttemptStatus, PaymentAttempt

pytestmark = pytest.mark.django_db

BAD_QUERIES = [
    {"tenant": "999999"},
    {"tenant": "abc"},
    {"date_from": "2026-13-40"},
    {"date_to": "yesterday"},
    {"date_from": "2026-05-10", "date_to": "2026-05-01"},
    {"date_from": "2020-01-01", "date_to": "2026-01-01"},
    {"provider": "bitcoin"},
    {"method": "cheque"},
    {"status": "lost"},
    {"date_from": "99999-01-01"},
    {"tenant": "1" * 30},
]


@pytest.mark.parametrize("page", ["dashboard:home", "dashboard:payments"])
@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_filters_show_the_form_error_with_400(staff_client, page, query):
    response = staff_client.get(reverse(page), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


@pytest.mark.parametrize(
    "query", [{"status": "nope"}, {"tenant": "x"}, {"before": "abc"}, {"before": "-1"}]
)
def test_bad_invoice_filters_are_400(staff_client, query):
    response = staff_client.get(reverse("dashboard:invoices"), query)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "before", ["junk", "2026-01-01T00:00:00_not-a-uuid", "2026-01-01T00:00:00_" + "0" * 32]
)
def test_a_broken_cursor_is_a_400_not_a_500(staff_client, before):
    response = staff_client.get(reverse("dashboard:payments"), {"before": before})
    assert response.status_code == 400


def test_payments_list_filters_and_links_rows_to_the_admin(staff_client, book):
    response = staff_client.get(reverse("dashboard:payments"), {"tenant": book.souq.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("admin:payments_paymentattempt_change", args=[book.refunded_200.pk]) in page
    assert str(book.paid_100.pk) not in page
    failed = staff_client.get(reverse("dashboard:payments"), {"status": "failed"})
    assert str(book.failed_30.pk) in failed.content.decode()
    assert str(book.paid_100.pk) not in failed.content.decode()


def test_payments_list_pages_by_keyset_without_gaps_or_repeats(staff_client, tenant):
    config = gateway(tenant)
    created = {make_attempt(config, make_order(tenant)).pk for _ in range(selectors.PAGE_SIZE + 7)}
    # Several rows with the very same created_at: the id breaks the tie.
    PaymentAttempt.objects.filter(pk__in=list(created)[:10]).update(created_at=timezone.now())
    seen: list[str] = []
    query: dict[str, str] = {"tenant": str(tenant.pk)}
    for _ in range(3):
        response = staff_client.get(reverse("dashboard:payments"), query)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [str(p.pk) for p in page.rows]
        if not page.next_cursor:
            break
        query["before"] = page.next_cursor
    assert len(seen) == len(set(seen)) == len(created)
    assert set(seen) == {str(pk) for pk in created}


def test_invoices_list_filters_by_status_and_overdue(staff_client, book):
    overdue = staff_client.get(reverse("dashboard:invoices"), {"status": "overdue"})
    assert [i.number for i in overdue.context["page"].rows] == [900001]
    paid = staff_client.get(reverse("dashboard:invoices"), {"status": "paid"})
    assert [i.number for i in paid.context["page"].rows] == [900002]
    souq = staff_client.get(reverse("dashboard:invoices"), {"tenant": book.souq.pk})
    assert [i.number for i in souq.context["page"].rows] == [900002]
    assert reverse("admin:invoicing_invoice_change", args=[souq.context["page"].rows[0].pk]) in (
        souq.content.decode()
    )


def test_the_csv_link_carries_the_filters_and_the_default_days_the_page_shows(staff_client, book):
    response = staff_client.get(reverse("dashboard:payments"), {"status": "paid", "page": "2"})
    export = urlsplit(response.context["export_url"])
    assert export.path == reverse("dashboard:export", args=["payments"])
    query = parse_qs(export.query)
    assert query["status"] == ["paid"]
    assert "page" not in query
    last = today_riyadh()
    assert query["date_to"] == [last.isoformat()]
    assert query["date_from"] == [(last - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()]


def test_every_stored_code_has_a_label():
    assert set(LABELS["attempt"]) == set(AttemptStatus.values)
    assert set(LABELS["method"]) == set(PaymentAttempt.Method.values)
    assert set(LABELS["invoice"]) == {*Invoice.Status.values, "overdue"}


def test_the_default_range_is_the_last_30_riyadh_days(staff_client):
    response = staff_client.get(reverse("dashboard:home"))
    form = response.context["form"]
    today = timezone.localdate()
    assert form.cleaned_data["date_to"] == today
    assert form.cleaned_data["date_from"] == today - dt.timedelta(days=29)


def test_the_tenant_select_marks_the_chosen_tenant_and_escapes_names(staff_client, book):
    from wasla.tenants.context import platform_access

    with platform_access(reason="test set-up"):
        book.souq.name = "<b>Souq</b>"
        book.souq.save(update_fields=["name"])
    html = staff_client.get(reverse("dashboard:home"), {"tenant": book.souq.pk}).content.decode()
    assert f'<option value="{book.souq.pk}" selected>&lt;b&gt;Souq&lt;/b&gt; (' in html
    assert "<b>Souq</b>" not in html


def _tenants_select(html: str) -> str:
    start = html.index('<select id="id_tenants" name="tenants"')
    return html[start : html.index("</select>", start)]


def test_the_simulators_tenants_select_marks_every_chosen_tenant_and_no_other(staff_client, book):
    query = {"currency": "SAR", "fixed_fee": "1.00"}
    chosen = staff_client.get(
        reverse("dashboard:simulator"), {**query, "tenants": [book.souq.pk, book.nakheel.pk]}
    )
    select = _tenants_select(chosen.content.decode())
    assert select.split(">", 1)[0].endswith(" multiple")
    assert '<option value="">' not in select  # no blank choice in a multiple select
    for tenant in (book.souq, book.nakheel):
        assert f'<option value="{tenant.pk}" selected>' in select
    assert select.count(" selected>") == 2
    none = staff_client.get(reverse("dashboard:simulator"), query)
    assert " selected>" not in _tenants_select(none.content.decode())
