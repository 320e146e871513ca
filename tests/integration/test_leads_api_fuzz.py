"""A bounded fuzz of the leads API from docs/openapi.json (schemathesis): no 5xx, every response as documented.

Runs against the local gateway (tokens verified as API Gateway does) and the real handler on moto. Bounded:
a few dozen examples per operation, so it takes well under a minute.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from local.openapi import OPENAPI_PATH
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed

schema = schemathesis.openapi.from_dict(json.loads(OPENAPI_PATH.read_text(encoding="utf-8")))
EXAMPLES = 25


@pytest.fixture(scope="module")
def api(session_stack: EmulatedStack) -> tuple[str, str]:
    """One seeded stack for every generated case: a lead to find, and a token with every scope."""
    session_stack.reset()
    post_signed(session_stack, a_submission())
    session_stack.drain()
    gateway = session_stack.gateway or session_stack.serve(port=0)
    return gateway.url, session_stack.issuer.mint()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented(case: Any, api: tuple[str, str]) -> None:
    # Given any request the document allows (and many it does not), When sent with a valid token,
    # Then no 5xx, a documented status, and a body matching the documented schema
    url, token = api
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate(
        base_url=url, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
