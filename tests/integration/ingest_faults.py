"""AWS faults injected under every botocore client, whatever session built it (the handlers' own clients).

A fault sits where botocore's own retries have already given up: a rule replaces the client call of one
operation, so the project code sees exactly what it would see after the SDK's attempts. Nothing in the
project knows about it (no switches in project code).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError

Params = dict[str, Any]


@dataclass
class Rule:
    service: str
    operation: str
    action: Callable[[Callable[[Params], Any], Params], Any]
    when: Callable[[Params], bool]
    times: int | None  # None: until cleared
    fired: int = 0


@dataclass
class AwsFaults:
    rules: list[Rule] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" of every call made

    def unavailable(
        self, service: str, operation: str, *, times: int | None = None, when: Callable[[Params], bool] | None = None
    ) -> Rule:
        """The operation fails as an unreachable or overloaded service does (after the SDK's retries)."""

        def fail(_: Callable[[Params], Any], params: Params) -> Any:
            if service == "secretsmanager":
                raise EndpointConnectionError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com")
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)

        return self._add(Rule(service, operation, fail, when or (lambda _: True), times))

    def failing_entries(self, *, every: int, times: int | None = None) -> Rule:
        """SendMessageBatch sends all but every `every`-th entry, and reports those as Failed (SQS's way)."""

        def partial(call: Callable[[Params], Any], params: Params) -> Any:
            entries = params["Entries"]
            dropped = [entry for index, entry in enumerate(entries) if index % every == 0]
            kept = [entry for entry in entries if entry not in dropped]
            response = call({**params, "Entries": kept}) if kept else {"Successful": []}
            response["Failed"] = [
                {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                for entry in dropped
            ]
            return response

        return self._add(Rule("sqs", "SendMessageBatch", partial, lambda _: True, times))

    def clear(self) -> None:
        self.rules.clear()

    def _add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def call(self, client: BaseClient, operation: str, params: Params, original: Callable[..., Any]) -> Any:
        service = client.meta.service_model.service_name
        self.calls[f"{service}.{operation}"] += 1
        for rule in self.rules:
            due = rule.times is None or rule.fired < rule.times
            if due and rule.service == service and rule.operation == operation and rule.when(params):
                rule.fired += 1
                return rule.action(lambda p: original(client, operation, p), params)
        return original(client, operation, params)


@pytest.fixture
def aws_faults(monkeypatch: pytest.MonkeyPatch) -> AwsFaults:
    faults = AwsFaults()
    original = BaseClient._make_api_call

    def make_api_call(self: BaseClient, operation: str, params: Params) -> Any:
        return faults.call(self, operation, params, original)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return faults  # monkeypatch restores botocore after the test
