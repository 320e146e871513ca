"""Integration tests: the real handlers against emulated AWS, with every resource built from template.yaml.

One moto server serves the whole session (EmulatedStack); each test starts from empty resources.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from leadscore import clock
from leadscore.adapters.score_item import RuleKeys
from leadscore.core.rules import compile_model
from leadscore.models.model_files import load_model_file
from local.stack import ROOT, EmulatedStack
from tests.integration.faults import Faults, aws_faults  # noqa: F401 - AWS faults under the handlers' clients

FORMS = "/webhooks/forms"


@pytest.fixture(scope="session")
def session_stack() -> Iterator[EmulatedStack]:
    stack = EmulatedStack(log_level="WARNING")
    yield stack
    stack.stop()


@pytest.fixture
def real_clock() -> Iterator[None]:
    """The process clock back to real time before and after a test that moves it (clock.advance)."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def stack(session_stack: EmulatedStack) -> EmulatedStack:
    """A freshly built stack: empty tables and queues, new secrets, cold handler caches."""
    session_stack.reset()
    return session_stack


def sign(key: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Leadscore-Timestamp": stamp, "X-Leadscore-Signature": f"v1={digest}"}


def a_submission(**overrides: Any) -> dict[str, Any]:
    """A form submission a decision-maker at a target company would send (fit 55 under the default model)."""
    body: dict[str, Any] = {
        "submission_id": "sub-1",
        "form_id": "whitepaper-download",
        "submitted_at": datetime.now(UTC).isoformat(),
        "email": "ada@analytical-engines.example",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "job_title": "VP Engineering",
        "company_size": 250,
        "industry": "Software",
        "country": "GB",
    }
    body.update(overrides)
    return body


def post_signed(stack: EmulatedStack, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(body).encode()
    return stack.post(FORMS, raw, sign(stack.forms_key(), raw))


def a_repeat_event_scored(stack: EmulatedStack, faults: Faults) -> Counter[str]:
    """A known lead (the default submission, scored), then its case-study download (same attributes, no rule
    threshold in reach: the fast path); returns the DynamoDB requests made while the queue drained."""
    post_signed(stack, a_submission())
    stack.drain()
    post_signed(stack, a_submission(submission_id="sub-2", form_id="case-study-download"))
    faults.calls.clear()
    stack.drain()
    return faults.made("dynamodb")


def the_score(stack: EmulatedStack) -> dict[str, Any]:
    """The one score item, its per-rule maps keyed by rule id again (stored under short rule keys)."""
    [item] = stack.score_items()
    keys = RuleKeys(compile_model(load_model_file(ROOT / "scoring" / "default.yaml")).rule_ids)
    for name in ("b", "n", "l"):
        item[name] = {keys.rule(key): value for key, value in item.get(name, {}).items()}
    return item
