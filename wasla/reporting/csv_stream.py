"""A dataset as a CSV download that streams: constant memory whatever the row count.

The rows come from a PostgreSQL server-side cursor (`.iterator(chunk_size=2000)`: Django
declares a named cursor, which lives only inside a transaction), are written into a small
buffer and sent every ~64 KB.

The body is produced after the view returned, by the WSGI server iterating the response: by
then the request's tenant scope is gone (the scope middleware took it back) and no
transaction is open. So the generator enters its own scope (`tenant_context` for a merchant,
`platform_access` for staff) and its own `transaction.atomic()` for the whole stream, and
leaves both when the stream ends, fails, or the client goes away: the server then closes the
response, which closes the generator (GeneratorExit at the `yield`), and the `with` blocks roll
the read-only transaction back. No connection is left idle in a transaction.

Excel opens UTF-8 (Arabic) correctly only with a byte order mark, so the file starts with one.
A text cell that starts with = + - @ (or a tab or carriage return) is prefixed with an
apostrophe so a spreadsheet never runs it as a formula (CSV injection); amount cells are
plain numbers written by us and left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

BOM = "\ufeff"
CHUNK_ROWS = 2000  # rows fetched from the server-side cursor per round trip
FLUSH_BYTES = 64 * 1024  # roughly how much is sent per piece of the response
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str


def cell_text(value: Any) -> Cell:
    """One cell of text as written: dates and times ISO 8601 (Riyadh time), nothing as empty,
    anything else as text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return formula_guarded(str(value))


def formula_guarded(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(*, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The BOM and header, then the rows, as UTF-8 pieces of about FLUSH_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes as needed, CRLF line ends
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= FLUSH_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def queryset_rows(querysets: Iterable[QuerySet[Any]]) -> Iterator[Any]:
    """Each queryset's objects in turn, through server-side cursors (inside a transaction)."""
    for queryset in querysets:
        yield from queryset.iterator(chunk_size=CHUNK_ROWS)


def stream_in_scope(
    *, scope: Callable[[], AbstractContextManager[object]], body: Callable[[], Iterator[bytes]]
) -> Iterator[bytes]:
    """`body()` run inside `scope()` and one transaction, both held for exactly as long as the
    response streams (see the module docstring)."""
    with scope(), transaction.atomic():
        yield from body()


def csv_response(*, stem: str, chunks: Iterator[bytes], today: date) -> StreamingHttpResponse:
    """A download named `wasla-<stem>-<YYYY-MM-DD>.csv` that is never cached."""
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wasla-{stem}-{today.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
