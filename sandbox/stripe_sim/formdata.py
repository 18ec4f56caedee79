"""Parse Stripe's form encoding: `a[b][0][c]=v` into `{"a": {"b": [{"c": "v"}]}}`.

stripe-python writes every list with indexes (`enabled_events[0]=…`); curl users write `a[]=…`.
Both become lists. Values stay strings: each endpoint decides what is an integer or a boolean.
Every malformed body raises StripeApiError (400); nothing here can end in a 500.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import parse_qsl

from sandbox.stripe_sim import errors

MAX_FIELDS: Final = 1000
MAX_DEPTH: Final = 8
MAX_INDEX: Final = 999
KEY_PATTERN: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
SEGMENT_PATTERN: Final = re.compile(r"\[([^\[\]]*)\]")
APPEND: Final = ""  # the segment of `a[]`

Tree = dict[str, Any]


def _malformed(detail: str) -> errors.StripeApiError:
    return errors.invalid(f"Invalid request body: {detail}")


def _decode_pairs(raw: bytes) -> list[tuple[str, str]]:
    try:
        text = raw.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise _malformed("it is not valid UTF-8") from None
    except ValueError:
        raise _malformed(f"it has more than {MAX_FIELDS} fields") from None


def _path_of(key: str) -> list[str]:
    match = KEY_PATTERN.fullmatch(key)
    if match is None:
        raise _malformed(f"the key {key!r} is not a name followed by [segments]")
    path = [match.group(1), *SEGMENT_PATTERN.findall(match.group(2))]
    if len(path) > MAX_DEPTH:
        raise _malformed(f"the key {key!r} is nested too deeply")
    return path


def _check_text(text: str) -> None:
    # PostgreSQL text cannot hold NUL; refusing it here keeps it from surfacing as a 500.
    if "\x00" in text:
        raise _malformed("NUL characters are not allowed")


def _insert(tree: Tree, path: list[str], value: str, key: str) -> None:
    node: Tree = tree
    for depth, segment in enumerate(path):
        if segment == APPEND:
            segment = str(sum(1 for name in node if name.isdigit()))
        last = depth == len(path) - 1
        current = node.get(segment)
        if last:
            if current is not None:
                raise _malformed(f"the key {key!r} is given twice or conflicts with another")
            node[segment] = value
            return
        if current is None:
            current = node[segment] = {}
        elif not isinstance(current, dict):
            raise _malformed(f"the key {key!r} conflicts with another")
        node = current


def _listify(value: Any, name: str) -> Any:
    """Turn dicts whose keys are all indexes into lists, keeping index order."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(item, f"{name}[{key}]") for key, item in value.items()}
    numeric = [key for key in items if key.isdigit()]
    if not numeric:
        return items
    if len(numeric) != len(items):
        raise errors.invalid("Invalid array", param=name)
    indexes = sorted((int(key), key) for key in numeric)
    if indexes[-1][0] > MAX_INDEX or len({index for index, _ in indexes}) != len(indexes):
        raise errors.invalid("Invalid array", param=name)
    return [items[key] for _, key in indexes]


def form_parse(raw: bytes) -> Tree:
    """A form-encoded body (or query string) as nested dicts, lists and strings."""
    tree: Tree = {}
    for key, value in _decode_pairs(raw):
        _check_text(key)
        _check_text(value)
        _insert(tree, _path_of(key), value, key)
    return {key: _listify(value, key) for key, value in tree.items()}
