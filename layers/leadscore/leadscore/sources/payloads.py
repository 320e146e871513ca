"""Reading a provider's body: JSON only as JSON, shapes checked by pydantic, problems named without values.

`parse_json` is the one place every source reads a body (verification included: Mailgun's signature sits
inside it). It refuses, with a 4xx and before anything is built from the body:
- text that is not UTF-8 JSON, NaN/Infinity literals (Python's, not JSON's): 400 `malformed_json`;
- nesting deeper than MAX_DEPTH: 400 `malformed_json` "nested too deeply". A body deeper than the C parser's
  own recursion guard (about a thousand levels) stops it with a RecursionError, caught here; a shallower one
  is measured on the parsed document without recursion, when it has more than MAX_DEPTH brackets at all
  (a pre-scan of the raw text cost 100x the parse itself on a 700 KB SendGrid batch);
- the same key twice in one object (which one did the sender mean?): 400 `duplicate_key`;
- strings holding lone surrogates or U+FFFE/U+FFFF (not text: no queue message can carry them): 400;
- numbers that overflow a double (`1e400` is not infinity to us): 422 `invalid_number`, naming the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import AllowInfNan, BaseModel, Strict, ValidationError

from leadscore.errors import WebhookRejected

# Where a provider documents a number or a boolean, it must be one: `true` is not 1, "1700000000" is not a
# time, and no NaN or infinity gets through (pydantic's lax mode would coerce all of these).
StrictNumber = Annotated[float, Strict(), AllowInfNan(False)]  # an int is a number too
StrictInteger = Annotated[int, Strict()]
StrictFlag = Annotated[bool, Strict()]

MAX_DEPTH = 64  # provider payloads nest 4-6 levels; 64 leaves room and keeps the parser's recursion shallow

# What may hide a character no queue message can carry: an escaped surrogate or U+FFFx, or the raw ones.
_ESCAPED_SUSPECT = re.compile(r"\\u[dDfF][0-9a-fA-F]{3}")
_NOT_TEXT = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return document


def nested_deeper_than(document: Any, limit: int) -> bool:
    """Whether arrays/objects nest deeper than `limit` in a parsed document (iterative: any depth is safe)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar with its path ("events[3].timestamp"); the depth is already bounded by MAX_DEPTH."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path or "(body)", value


def _field(path: str) -> str:
    return path[:128]


def _too_deep() -> WebhookRejected:
    return WebhookRejected(
        400, "malformed_json", f"The body is nested too deeply (more than {MAX_DEPTH} levels of arrays/objects)."
    )


def parse_json(body: bytes) -> Any:
    """The body as a JSON document; a WebhookRejected (400/422) for anything listed in the module doc."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "malformed_json", "The body is not UTF-8 text.") from None
    overflowed = False

    def parse_float(literal: str) -> float:
        nonlocal overflowed
        number = float(literal)
        overflowed |= not math.isfinite(number)
        return number

    try:
        document = json.loads(text, parse_constant=_not_json, parse_float=parse_float, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        raise WebhookRejected(
            400,
            "duplicate_key",
            "An object in the body has the same key twice.",
            [{"field": _field(duplicate.key), "problem": "duplicate key"}],
        ) from None
    except ValueError as exc:  # JSONDecodeError is a ValueError; so are over-long integer literals
        raise WebhookRejected(400, "malformed_json", f"The body is not valid JSON: {exc}"[:300]) from None
    except RecursionError:  # '[[[[…' deeper than the C parser's recursion guard (about a thousand levels)
        raise _too_deep() from None
    if text.count("[") + text.count("{") > MAX_DEPTH and nested_deeper_than(document, MAX_DEPTH):
        raise _too_deep()
    if overflowed:
        fields = [_field(path) for path, value in _walk(document) if isinstance(value, float) and math.isinf(value)]
        raise WebhookRejected(
            422,
            "invalid_number",
            "A number in the body is too large to represent.",
            [{"field": field, "problem": "number out of range"} for field in fields[:20]],
        )
    if ("\\u" in text and _ESCAPED_SUSPECT.search(text)) or "\ufffe" in text or "\uffff" in text:
        _refuse_non_text(document)
    return document


def _refuse_non_text(document: Any) -> None:
    for path, value in _walk(document):
        if isinstance(value, str) and _NOT_TEXT.search(value):
            raise WebhookRejected(
                400,
                "malformed_json",
                "A string holds a lone surrogate or U+FFFE/U+FFFF, which is not text.",
                [{"field": _field(path), "problem": "not text"}],
            )
    keys = [key for key in _keys(document) if _NOT_TEXT.search(key)]
    if keys:
        raise WebhookRejected(
            400, "malformed_json", "A key holds a lone surrogate or U+FFFE/U+FFFF, which is not text.", []
        )


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def validation_details(exc: ValidationError) -> list[dict[str, object]]:
    """Field-level problems, without echoing submitted values (they may be personal data)."""
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "problem": error["msg"]}
        for error in exc.errors(include_input=False, include_url=False)
    ]


def parse_payload[PayloadT: BaseModel](body: bytes, model: type[PayloadT], what: str) -> PayloadT:
    """The body as `model`: 400 if it is not JSON, 422 naming the fields if it is not `what`."""
    document = parse_json(body)
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise WebhookRejected(422, "invalid_payload", f"Not {what}.", validation_details(exc)) from None
