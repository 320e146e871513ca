"""Reading a provider's body: JSON only as JSON, shapes checked by pydantic, problems named without values."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from leadscore.errors import WebhookRejected


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_not_json)  # NaN/Infinity are Python's, not JSON's
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise WebhookRejected(400, "malformed_json", f"The body is not valid JSON: {exc}") from None
    except RecursionError:  # '[[[[…' nested deeper than the parser's stack: bad input, not a 500
        raise WebhookRejected(400, "malformed_json", "The body is nested too deeply.") from None


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
