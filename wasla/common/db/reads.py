"""A page read runs as one transaction.

In autocommit mode every statement run in a tenant or platform scope is its own transaction
(wasla/common/db/postgresql: BEGIN, the scope's set_config, the statement, COMMIT): a dashboard
page of 15 queries made 60 round trips. Inside one `atomic` block the page pays for BEGIN and
the scope once, and reads one consistent snapshot besides. Only safe methods: a POST keeps the
transactions its services choose. PostgreSQL only: the demo's SQLite takes its write lock at
BEGIN (IMMEDIATE), which would make every page read wait for the webhooks' writes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from django.db import connection, transaction
from django.http import HttpRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def page_read_transaction(request: HttpRequest) -> AbstractContextManager[object]:
    if request.method in SAFE_METHODS and connection.vendor == "postgresql":
        return transaction.atomic()
    return nullcontext()
