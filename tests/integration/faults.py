"""The one fault-injection harness of the integration tests: AWS faults under every botocore client, and a
driver that redelivers the way SQS + Lambda do.

Faults sit where botocore's own retries have already given up. While a `Faults` is installed (the `aws_faults`
fixture, or `inject(...)` for one block) every client call goes through it, whatever session built the client:
a `Rule` picks calls by service, operation, parameters (`when`), the function the driver is running
(`functions`) and then by index, predicate or seeded ratio (`select`), at most `times` times, and its action
replaces the call: a ClientError (`fail`, `unavailable`), an unreachable endpoint, a batch with failed entries
(`failing_entries`), a crash before the call (`Crash`, a BaseException, so it escapes the batch processor like
a killed process), or anything wrapping the real call. Rules are asked in order; the first that selects a call
acts on it. Nothing in project code knows about it.

The same hook is the one way tests and benchmarks observe AWS calls: `Faults.calls` counts every call by
"service.Operation" (clear it to count a window), `made(service)` gives one service's calls by operation. It
sees clients made before it was installed too (no handler cache needs resetting, unlike botocore's event hooks).

`settle(stack)` runs every queue's poller until nothing is left: a failed record (or a crashed invocation's
whole batch) comes back after the queue's visibility timeout, simulated by moving the process clock forward,
and after maxReceiveCount receives SQS moves it to the DLQ. `redrive` moves DLQ messages back.
"""

from __future__ import annotations

import contextvars
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, EndpointConnectionError

from leadscore import clock
from local.lambdas import invoke
from local.poller import QueuePoller, _sqs_record
from local.stack import EmulatedStack

Params = dict[str, Any]
CallThrough = Callable[[Params], Any]  # the real call, with the parameters given
Action = Callable[[CallThrough, "Call"], Any]  # what a rule does instead of the call

# DynamoDB's write operations (each costs write request units; everything else it answers reads).
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

# Which function the driver is running right now (so a fault can target "the scorer's calls" only).
running_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("running_function", default=None)


class Crash(BaseException):
    """The process dies here: nothing after this point runs, not even the batch processor's bookkeeping."""


@dataclass(frozen=True)
class Call:
    service: str  # botocore service name: "dynamodb", "sns", "sqs", ...
    operation: str  # "UpdateItem", "Publish", ...
    params: Params
    index: int  # 0-based index among the calls this rule has matched
    function: str | None  # logical id of the function making the call, when the driver knows it


def _always(_: Params) -> bool:
    return True


@dataclass(eq=False)
class Rule:
    """Which calls a fault takes (service, operation, `when`, `functions`, `select`, `times`), what it does
    instead (`action`), and what it has seen and done."""

    service: str  # "*": any
    operation: str  # "*": any
    action: Action
    when: Callable[[Params], bool] = _always
    times: int | None = None  # None: until removed
    functions: tuple[str, ...] | None = None  # None: any caller
    select: Callable[[Call], bool] | None = None  # among the matching calls; None: every one
    calls: int = 0  # matching calls seen
    failed: list[Call] = field(default_factory=list)  # the calls it acted on

    @property
    def fired(self) -> int:
        return len(self.failed)

    def take(self, service: str, operation: str, params: Params) -> Call | None:
        """The call, counted, if this rule acts on it."""
        if self.times is not None and self.fired >= self.times:
            return None
        if self.service not in ("*", service) or self.operation not in ("*", operation):
            return None
        function = running_function.get()
        if (self.functions is not None and function not in self.functions) or not self.when(params):
            return None
        call = Call(service, operation, params, self.calls, function)
        self.calls += 1
        if self.select is not None and not self.select(call):
            return None
        self.failed.append(call)
        return call


def error(code: str) -> Action:
    """Fail as the SDK does once its retries are spent: a ClientError with this code."""

    def fail(_: CallThrough, call: Call) -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "injected fault"}}, call.operation)

    return fail


def _crash(_: CallThrough, call: Call) -> Any:
    """The process dies before the call."""
    raise Crash(f"killed before {call.service}.{call.operation} (call {call.index})")


@dataclass
class Faults:
    rules: list[Rule] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" of every call made
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def made(self, service: str) -> Counter[str]:
        """The calls to `service` since `calls` was last cleared, by operation: {"UpdateItem": 1}."""
        prefix = f"{service}."
        with self._lock:
            return Counter({key.removeprefix(prefix): n for key, n in self.calls.items() if key.startswith(prefix)})

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def unavailable(
        self,
        service: str,
        operation: str,
        *,
        times: int | None = None,
        when: Callable[[Params], bool] | None = None,
        error_code: str = "ServiceUnavailable",
    ) -> Rule:
        """The operation fails as an unreachable or overloaded service does (after the SDK's retries)."""

        def fail(through: CallThrough, call: Call) -> Any:
            if service == "secretsmanager":
                raise EndpointConnectionError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com")
            return error(error_code)(through, call)

        return self.add(Rule(service, operation, fail, when or _always, times))

    def failing_entries(self, *, every: int, times: int | None = None) -> Rule:
        """SendMessageBatch sends all but every `every`-th entry, and reports those as Failed (SQS's way)."""

        def partial(through: CallThrough, call: Call) -> Any:
            params = call.params
            entries = params["Entries"]
            dropped = [entry for index, entry in enumerate(entries) if index % every == 0]
            kept = [entry for entry in entries if entry not in dropped]
            response = through({**params, "Entries": kept}) if kept else {"Successful": []}
            response["Failed"] = [
                {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
                for entry in dropped
            ]
            return response

        return self.add(Rule("sqs", "SendMessageBatch", partial, _always, times))

    def call(self, client: BaseClient, operation: str, params: Params, original: Callable[..., Any]) -> Any:
        service = client.meta.service_model.service_name
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            taken = next(
                ((rule, call) for rule in self.rules if (call := rule.take(service, operation, params)) is not None),
                None,
            )
        if taken is None:
            return original(client, operation, params)
        rule, call = taken
        return rule.action(lambda changed: original(client, operation, changed), call)


_installed: Faults | None = None


@contextmanager
def installed() -> Iterator[Faults]:
    """Every client call goes through the faults for the block (an inner block shares the outer's)."""
    global _installed  # noqa: PLW0603 - botocore's one client class is patched once, process-wide
    if _installed is not None:
        yield _installed
        return
    faults = _installed = Faults()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private: botocore's stubs do not name it

    def make_api_call(self: BaseClient, operation: str, params: Params) -> Any:
        return faults.call(self, operation, params, original)

    setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
    try:
        yield faults
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010
        _installed = None


@pytest.fixture
def aws_faults() -> Iterator[Faults]:
    """Faults a test adds and clears; gone after the test."""
    with installed() as faults:
        yield faults


@contextmanager
def inject(
    stack: EmulatedStack,
    service: str = "*",
    operation: str = "*",
    *,
    fail_ratio: float | None = None,
    predicate: Callable[[Call], bool] | None = None,
    error_code: str = "InternalServerError",
    seed: int = 0,
    crash: bool = False,
    functions: tuple[str, ...] | None = None,
) -> Iterator[Rule]:
    """Fail matching calls while the block runs.

    `fail_ratio` (seeded) or `predicate` selects the calls; `error_code` is the ClientError raised (as the
    SDK raises it after its own retries), or `crash=True` raises `Crash`. `functions` limits it to calls made
    while the driver runs those functions (None: any call). The functions start cold on entry and after the
    block (a fresh sandbox: the call indices of a batch do not depend on what ran before).
    """
    rng = random.Random(seed)

    def by_ratio(_: Call) -> bool:
        return rng.random() < (fail_ratio or 0.0)

    action = _crash if crash else error(error_code)
    rule = Rule(service, operation, action, functions=functions, select=predicate or by_ratio)
    with installed() as faults:
        faults.add(rule)
        stack.reset_handler_caches()
        try:
            yield rule
        finally:
            faults.remove(rule)
            stack.reset_handler_caches()


# --- the driver: SQS + Lambda event source mappings, redelivery after the visibility timeout ---------------
@dataclass
class PollResult:
    received: int = 0
    failed: int = 0
    crashed: bool = False


def poll_once(poller: QueuePoller) -> PollResult:
    """One batch through the function; failed records (all of them if it crashed) are visible again at once
    (the caller moves the clock past the visibility timeout before the next poll)."""
    sqs = poller._sqs  # the poller's own client (created before any injection)
    request: dict[str, Any] = {
        "QueueUrl": poller.queue_url,
        "MaxNumberOfMessages": min(poller.source.batch_size, 10),
        "AttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
        "WaitTimeSeconds": 0,
    }
    received = sqs.receive_message(**request).get("Messages", [])
    if not received:
        return PollResult()
    event = {"Records": [_sqs_record(message, poller.queue_arn) for message in received]}
    token = running_function.set(poller.function.logical_id)
    crashed = False
    try:
        response = invoke(poller.function, event) or {}
        failed_ids = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    except Crash:
        crashed = True
        failed_ids = {message["MessageId"] for message in received}
    except Exception:  # noqa: BLE001 - an invocation error fails the whole batch, as in Lambda
        failed_ids = {message["MessageId"] for message in received}
    finally:
        running_function.reset(token)
    for message in received:
        if message["MessageId"] in failed_ids:
            sqs.change_message_visibility(
                QueueUrl=poller.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=poller.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return PollResult(len(received), len(failed_ids), crashed)


def poll_then_wait(stack: EmulatedStack, poller: QueuePoller) -> PollResult:
    """One batch; if any record failed, time moves past the longest visibility timeout (as on AWS, where
    failed records come back only then, after any lease the failed attempt took has expired)."""
    result = poll_once(poller)
    if result.failed:
        clock.advance(timedelta(seconds=_longest_visibility(stack) + 1))
    return result


def settle(stack: EmulatedStack, *, max_rounds: int = 400, first: Callable[[], None] | None = None) -> int:
    """Poll every queue until all are empty; returns the rounds it took. Whenever a record failed, time moves
    past the longest visibility timeout (so leases taken by the failed attempt have expired, as on AWS)."""
    for rounds in range(max_rounds):
        results = [poll_once(poller) for poller in stack.pollers]
        if any(result.failed for result in results):
            clock.advance(timedelta(seconds=_longest_visibility(stack) + 1))
        if not any(result.received for result in results) and all(
            stack.queue_depth(poller.source.queue) == 0 for poller in stack.pollers
        ):
            return rounds
    raise AssertionError(f"queues not settled after {max_rounds} rounds")


def _longest_visibility(stack: EmulatedStack) -> int:
    timeouts = [
        int(body["Properties"].get("VisibilityTimeout", 30))
        for body in stack.template.of_type("AWS::SQS::Queue").values()
    ]
    return max(timeouts)


def dlq_messages(stack: EmulatedStack, dlq: str) -> list[dict[str, Any]]:
    """Every message in a DLQ (read and left there: made visible again at once)."""
    sqs = boto3.client("sqs")
    url = stack.physical(dlq)
    seen: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for received in batch:
            seen[received["MessageId"]] = dict(received)
    for kept in seen.values():
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=kept["ReceiptHandle"], VisibilityTimeout=0)
    return list(seen.values())


def redrive(stack: EmulatedStack, dlq: str, source: str) -> int:
    """Move every DLQ message back to its source queue (what `aws sqs start-message-move-task` does)."""
    sqs = boto3.client("sqs")
    dlq_url, source_url = stack.physical(dlq), stack.physical(source)
    fifo = source_url.endswith(".fifo")
    moved = 0
    while True:
        batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not batch:
            return moved
        for message in batch:
            request: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
            if fifo:
                request["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
                # A move task re-sends under a new deduplication id (the original may still be in its window).
                request["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            sqs.send_message(**request)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def delivered_alerts(stack: EmulatedStack) -> Counter[str]:
    """What the sales topic's subscriber received, by alert id (consumed)."""
    return Counter(str(alert["attributes"]["alert_id"]) for alert in stack.alerts())


def duplicates(counts: Counter[str]) -> int:
    return sum(count - 1 for count in counts.values() if count > 1)
