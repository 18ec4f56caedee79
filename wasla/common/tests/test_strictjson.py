"""The strict JSON reader refuses what a payment platform must not take from a stranger."""

from decimal import Decimal

import pytest

from wasla.common.strictjson import MAX_DEPTH, MalformedJSON, loads


def test_plain_json_parses_with_the_callers_number_types() -> None:
    body = b'{"amount": 10.50, "count": 3, "tags": ["a", "b"], "nested": {"x": null}}'
    assert loads(body, parse_float=Decimal) == {
        "amount": Decimal("10.50"),
        "count": 3,
        "tags": ["a", "b"],
        "nested": {"x": None},
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("[" * 10_000 + "]" * 10_000, "nested deeper", id="deep-array"),
        pytest.param('{"a":' * 10_000 + "1" + "}" * 10_000, "nested deeper", id="deep-object"),
        pytest.param('{"a": NaN}', "NaN", id="nan"),
        pytest.param('{"a": Infinity}', "Infinity", id="infinity"),
        pytest.param('{"a": -Infinity}', "Infinity", id="minus-infinity"),
        pytest.param('{"a": 1, "a": 2}', "duplicate key", id="duplicate-key"),
        pytest.param('{"method": "mada\\u0000"}', "NUL", id="escaped-nul"),
        pytest.param('{"method": "mada\\\\\\u0000"}', "NUL", id="escaped-nul-after-backslash"),
        pytest.param('{"method": "mada\x00"}', "NUL", id="raw-nul"),
        pytest.param("{'a': 1}", "not valid JSON", id="single-quotes"),
        pytest.param("", "not valid JSON", id="empty"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf8"),
    ],
)
def test_refused(body: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedJSON, match=reason):
        loads(body)


def test_depth_limit_is_exact_and_ignores_brackets_inside_strings() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads(at_limit) is not None
    with pytest.raises(MalformedJSON):
        loads("[" + at_limit + "]")
    assert loads('["[[[[' + "[" * 500 + '"]') == ["[[[[" + "[" * 500]


def test_an_escaped_backslash_before_u0000_is_text_not_nul() -> None:
    assert loads('{"path": "C:\\\\u0000"}') == {"path": "C:\\u0000"}
