"""Every (from, to) pair of payment attempt statuses: allowed exactly when the status machine
says so, refused otherwise — in Python (django-fsm transitions), and in SQL, where each save
compares-and-sets the status it started from.

The machine, written out here on purpose rather than read from the model:

    created -> pending -> paid -> partially_refunded -> refunded
    created -> paid            paid -> refunded
    created|pending -> failed | cancelled
    partially_refunded -> partially_refunded (another partial refund)
"""

from __future__ import annotations

from itertools import product

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from testsupport.factories import make_attempt, make_tap_config, make_tenant
from wasla.payments.models import PaymentAttempt

S = PaymentAttempt.Status
STATUSES = [S.CREATED, S.PENDING, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.FAILED, S.CANCELLED]

ALLOWED = {
    (S.CREATED, S.PENDING),
    (S.CREATED, S.PAID),
    (S.PENDING, S.PAID),
    (S.CREATED, S.FAILED),
    (S.PENDING, S.FAILED),
    (S.CREATED, S.CANCELLED),
    (S.PENDING, S.CANCELLED),
    (S.PAID, S.PARTIALLY_REFUNDED),
    (S.PARTIALLY_REFUNDED, S.PARTIALLY_REFUNDED),
    (S.PAID, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
}

# The one transition method leading to each status; nothing leads back to `created`.
METHOD_TO = {
    S.PENDING: "mark_pending",
    S.PAID: "mark_paid",
    S.FAILED: "mark_failed",
    S.CANCELLED: "mark_cancelled",
    S.PARTIALLY_REFUNDED: "mark_partially_refunded",
    S.REFUNDED: "mark_refunded",
}

PAIRS = list(product(STATUSES, STATUSES))


def test_the_table_is_complete_and_names_the_refusals_that_matter():
    assert len(PAIRS) == 49
    assert len(STATUSES) == len(S.choices)
    for refused in [
        (S.REFUNDED, S.PAID),
        (S.PAID, S.PENDING),
        (S.CANCELLED, S.PENDING),
        (S.FAILED, S.PAID),
        (S.PAID, S.CANCELLED),
        (S.REFUNDED, S.PARTIALLY_REFUNDED),
        (S.PENDING, S.CREATED),
    ]:
        assert refused not in ALLOWED


def test_the_model_has_exactly_the_transitions_of_the_table():
    transitions = list(PaymentAttempt(status=S.CREATED).get_all_status_transitions())
    assert {(S(t.source), S(t.target)) for t in transitions} == ALLOWED
    assert {S(t.target): t.name for t in transitions} == METHOD_TO


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_each_transition_is_allowed_or_refused_as_the_table_says(source, target):
    attempt = PaymentAttempt(status=source)
    name = METHOD_TO.get(target)
    if name is None:  # `created` is only ever the first status
        assert (source, target) not in ALLOWED
        assert not any(t.target == target for t in attempt.get_available_status_transitions()), (
            "something leads back to created"
        )
        return
    method = getattr(attempt, name)
    if (source, target) in ALLOWED:
        assert can_proceed(method)
        method()
        assert attempt.status == target
    else:
        assert not can_proceed(method)
        with pytest.raises(TransitionNotAllowed):
            method()
        assert attempt.status == source
    with pytest.raises(AttributeError):
        attempt.status = target  # protected: only a transition changes the status


# While one copy of an attempt moved on, a stale copy (still at `source`) tries its transition:
# the UPDATE compares the status it started from, finds none, and refuses.
MOVED_ON = {
    S.CREATED: (S.CANCELLED, "mark_cancelled"),
    S.PENDING: (S.FAILED, "mark_failed"),
    S.PAID: (S.REFUNDED, "mark_refunded"),
    S.PARTIALLY_REFUNDED: (S.REFUNDED, "mark_refunded"),
}
ALLOWED_PAIRS = sorted(ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"), ALLOWED_PAIRS, ids=[f"{a}->{b}" for a, b in ALLOWED_PAIRS]
)
def test_a_stale_copy_cannot_save_an_allowed_transition(source, target):
    attempt = make_attempt(make_tap_config(make_tenant()), status=source)
    current = PaymentAttempt.objects.get(pk=attempt.pk)
    stale = PaymentAttempt.objects.get(pk=attempt.pk)
    moved_to, how = MOVED_ON[source]
    getattr(current, how)()
    current.save()

    getattr(stale, METHOD_TO[target])()  # allowed from what the stale copy believes
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == moved_to


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target"), ALLOWED_PAIRS, ids=[f"{a}->{b}" for a, b in ALLOWED_PAIRS]
)
def test_an_allowed_transition_is_saved(source, target):
    attempt = make_attempt(make_tap_config(make_tenant()), status=source)
    getattr(attempt, METHOD_TO[target])()
    attempt.save()
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == target
