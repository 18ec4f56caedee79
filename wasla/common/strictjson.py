"""One strict JSON reader for everything that comes from outside: API bodies and webhooks.

`json.loads` accepts more than a payment platform should take from a stranger: `NaN` and
`Infinity`, a key given twice (the last one silently wins, so two readers of one body can
disagree), `\\u0000` (which PostgreSQL cannot store in text or jsonb), and nesting deep enough
to exhaust the interpreter's stack (`RecursionError`, deep inside whatever walks the result
next). `loads` refuses all of these with one exception, `MalformedJSON`, which callers turn into
a 400 problem response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64  # no payload we read, ours or a provider's, nests half as deep

# A JSON string literal (with its escapes), or one bracket; strings are skipped when the
# brackets are counted, so a "[" inside a string does not count.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset("[{")
# An escaped NUL: a backslash starting "u0000" that is not itself escaped, i.e. preceded by an
# even number of backslashes ("\\u0000" is the six characters \u0000, not a NUL).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class MalformedJSON(ValueError):
    """The body is not JSON we accept; the message says why, for the problem's detail."""


def _depth_check(text: str, max_depth: int) -> None:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENING:
            depth += 1
            if depth > max_depth:
                raise MalformedJSON(f"JSON nested deeper than {max_depth} levels")
        elif token[0] != '"':
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJSON(f"duplicate key {key[:80]!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not a JSON number")


def loads(
    body: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
) -> Any:
    """Parse `body` (UTF-8 bytes or text) or raise `MalformedJSON`."""
    if isinstance(body, bytes | bytearray):
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJSON("the body is not UTF-8") from None
    else:
        text = body
    if "\x00" in text or _ESCAPED_NUL.search(text):
        # A raw NUL is invalid JSON anyway; an escaped one would reach the database.
        raise MalformedJSON("NUL characters are not accepted")
    _depth_check(text, max_depth)
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=parse_float,
            parse_int=parse_int,
        )
    except MalformedJSON:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedJSON(f"not valid JSON: {exc}") from None
