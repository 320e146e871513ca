"""The one JSON parser every source reads its body with: depth, duplicate keys, overflow, non-text."""

from __future__ import annotations

import pytest

from leadscore.errors import WebhookRejected
from leadscore.sources.payloads import MAX_DEPTH, nested_deeper_than, parse_json


def refused(body: bytes) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as rejected:
        parse_json(body)
    return rejected.value


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 100_000,
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b'{"ok": 1, "deep": ' + b"[" * 100 + b"]" * 100 + b"}",
    ],
)
def test_deep_nesting_is_a_400_not_a_recursion_error(body: bytes) -> None:
    # Given a body nested deeper than the limit (10,000 levels crashed the Mailgun route with a 500)
    # When parsed / Then a 400 saying so
    rejected = refused(body)
    assert (rejected.status, rejected.code) == (400, "malformed_json")
    assert "nested too deeply" in rejected.message


def test_nesting_up_to_the_limit_is_fine_and_brackets_in_strings_do_not_count() -> None:
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert parse_json(b'{"s": "' + b"[" * 1000 + b'"}') == {"s": "[" * 1000}
    document = parse_json(b'{"s": "[[[\\"[[", "n": [[1], {"a": [2]}]}')  # depth 4: brackets in strings do not count
    assert not nested_deeper_than(document, 4)
    assert nested_deeper_than(document, 3)
    assert not nested_deeper_than([[]] * 100_000, 2)  # wide is not deep
    assert not nested_deeper_than("text", 0)


@pytest.mark.parametrize(
    ("body", "key"),
    [(b'{"email": "a@b.example", "email": "c@d.example"}', "email"), (b'[{"x": {"id": 1, "id": 2}}]', "id")],
)
def test_a_duplicate_key_is_refused_naming_it(body: bytes, key: str) -> None:
    # Given the same key twice in one object (the last one used to win silently)
    rejected = refused(body)

    # Then a 400 naming the key
    assert (rejected.status, rejected.code) == (400, "duplicate_key")
    assert rejected.details == [{"field": key, "problem": "duplicate key"}]


def test_an_overflowing_number_is_a_422_naming_its_field() -> None:
    # Given 1e400, which Python reads as infinity (and the scorer then silently ignored)
    rejected = refused(b'{"events": [{"timestamp": 1}, {"timestamp": 1e400}]}')

    # Then a 422 naming where it is
    assert (rejected.status, rejected.code) == (422, "invalid_number")
    assert rejected.details == [{"field": "events[1].timestamp", "problem": "number out of range"}]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal: bytes) -> None:
    assert refused(b'{"x": ' + literal + b"}").status == 400


@pytest.mark.parametrize(
    "body", [b'{"x": "\\ud800"}', b'{"x": "a\\udfff"}', '{"x": "\uffff"}'.encode(), b'{"\\ud800": 1}']
)
def test_strings_that_are_not_text_are_refused(body: bytes) -> None:
    # Given a lone surrogate or U+FFFF (no queue message can carry them: a 503 loop otherwise)
    assert (refused(body).status, refused(body).code) == (400, "malformed_json")


def test_escaped_surrogate_pairs_are_text() -> None:
    assert parse_json(b'{"x": "\\ud83d\\ude00"}') == {"x": "\U0001f600"}


@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b'{"a": "\xe9"}', b"9" * 5000])
def test_what_is_not_utf8_json_is_a_400(body: bytes) -> None:
    assert refused(body).status == 400
