"""The API's one body parser: JSON read by the project's strict reader.

DRF's own JSONParser takes what `json.loads` takes: nesting deep enough to exhaust the stack,
`NaN`, a key given twice, and `\\u0000`, which PostgreSQL cannot store (the Idempotency-Key
replay keeps the response, which may echo the input). Numbers with a fraction are read as
`Decimal`, so an amount is never rounded through a float before it is validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from wasla.common.strictjson import MalformedJSON, loads


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return loads(stream.read(), parse_float=Decimal)
        except MalformedJSON as exc:
            raise ParseError(f"JSON parse error: {exc}") from None
