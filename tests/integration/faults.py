"""Fault injection at the AWS client level, and a driver that redelivers the way SQS + Lambda do.

`inject(...)` registers botocore `before-call` handlers on every client created while it is active (the
handlers' cached clients are dropped on entry, so the functions build new ones), and fails the calls it
selects: by ratio (seeded), by predicate, or as a crash (`Crash`, a BaseException, so it escapes the batch
processor like a killed process). Nothing in project code knows about it.

`settle(stack)` runs every queue's poller until nothing is left: a failed record (or a crashed invocation's
whole batch) comes back after the queue's visibility timeout, simulated by moving the process clock forward,
and after maxReceiveCount receives SQS moves it to the DLQ. `redrive` moves DLQ messages back.
"""

from __future__ import annotations

import contextvars
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from leadscore import clock
from local.lambdas import invoke
from local.poller import QueuePoller, _sqs_record
from local.stack import EmulatedStack

# Which function the driver is running right now (so a fault can target "the scorer's calls" only).
running_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("running_function", default=None)


class Crash(BaseException):
    """The process dies here: nothing after this point runs, not even the batch processor's bookkeeping."""


@dataclass(frozen=True)
class Call:
    service: str  # botocore service name: "dynamodb", "sns", "sqs", ...
    operation: str  # "UpdateItem", "Publish", ...
    params: dict[str, Any]
    index: int  # 0-based index among the calls this injection has seen (matching service/operation)
    function: str | None  # logical id of the function making the call, when the driver knows it


Selector = Callable[[Call], bool]


@dataclass
class Injection:
    """What an active injection has seen and done."""

    calls: int = 0
    failed: list[Call] = field(default_factory=list)
    active: bool = True


def _clear_handler_caches(stack: EmulatedStack) -> None:
    stack.reset_handler_caches()


@contextmanager
def inject(
    stack: EmulatedStack,
    service: str = "*",
    operation: str = "*",
    *,
    fail_ratio: float | None = None,
    predicate: Selector | None = None,
    error_code: str = "InternalServerError",
    seed: int = 0,
    crash: bool = False,
    functions: tuple[str, ...] | None = None,
) -> Iterator[Injection]:
    """Fail matching calls of clients created while active.

    `fail_ratio` (seeded) or `predicate` selects the calls; `error_code` is the ClientError raised (as the
    SDK raises it after its own retries), or `crash=True` raises `Crash`. `functions` limits it to calls made
    while the driver runs those functions (None: any handler call).
    """
    rng = random.Random(seed)
    state = Injection()
    lock = threading.Lock()
    event = f"before-call.{service}.{operation}" if service != "*" else "before-call"

    def handler(model: Any, params: dict[str, Any], **_: Any) -> None:
        if not state.active:
            return
        function = running_function.get()
        if functions is not None and function not in functions:
            return
        if operation not in ("*", model.name):
            return
        with lock:
            call = Call(model.service_model.service_name, model.name, params, state.calls, function)
            state.calls += 1
            chosen = predicate(call) if predicate is not None else rng.random() < (fail_ratio or 0.0)
            if chosen:
                state.failed.append(call)
        if not chosen:
            return
        if crash:
            raise Crash(f"killed before {call.service}.{call.operation} (call {call.index})")
        raise ClientError({"Error": {"Code": error_code, "Message": "injected fault"}}, call.operation)

    session = boto3._get_default_session()._session  # the session every boto3.client() copies
    unique_id = f"fault-{uuid.uuid4()}"
    session.register(event, handler, unique_id=unique_id)  # type: ignore[arg-type]
    _clear_handler_caches(stack)  # the functions build new clients, which copy the handler
    try:
        yield state
    finally:
        state.active = False
        session.unregister(event, unique_id=unique_id)
        _clear_handler_caches(stack)


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


def queue_bodies(stack: EmulatedStack, logical_id: str) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in dlq_messages(stack, logical_id)]
