"""Fixtures of the dashboard tests: staff and non-staff logins, and the small book of
payments (books.py) whose every aggregate the tests compute by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from testsupport.staff import staff_client as staff_client_for
from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh
from wasla.dashboard.selectors import RECONCILE_CACHE_KEY

from .books import Book, build_book


@pytest.fixture
def staff_client(db: None) -> Client:
    user = get_user_model().objects.create_user("ops", password="pw-ops-1234", is_staff=True)
    return staff_client_for(user)


@pytest.fixture
def merchant_client(db: None) -> Client:
    user = get_user_model().objects.create_user("merchant", password="pw-m-1234")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def no_reconcile_snapshot() -> None:
    cache.delete(RECONCILE_CACHE_KEY)


@pytest.fixture
def book(db: None) -> Book:
    built = build_book()
    rollup_refresh(since=timezone.localdate() - dt.timedelta(days=FULL_DAYS))
    return built
