"""The fault scenarios, runnable from the tests (which assert) and from the benchmarks (which print counts).

Each drives the real handlers through the emulated stack: the workload goes on the lead-events queue, faults
are injected at the AWS client level while the queues settle (failed records redelivered after the
visibility timeout, DLQ after maxReceiveCount), then the faults stop, the DLQs are redriven and the queues
settle again. The end state is compared with the pure core's figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack

from leadscore.models.events import LeadEvent
from local.stack import EmulatedStack
from tests.integration.fault_workload import (
    EndState,
    compiled_models,
    crossing_batch,
    end_state,
    enqueue,
    expected,
    pepper_of,
    workload,
)
from tests.integration.faults import (
    Call,
    Rule,
    delivered_alerts,
    dlq_messages,
    inject,
    poll_once,
    poll_then_wait,
    redrive,
    settle,
)

SCORER = "ScoreEventsFunction"
DLQS = {"LeadEventsDLQ": "LeadEventsQueue", "AlertsFifoDLQ": "AlertsFifoQueue"}


def _redrive_all(stack: EmulatedStack) -> None:
    for dlq, source in DLQS.items():
        if dlq in stack.template.physical:
            redrive(stack, dlq, source)


def recover(stack: EmulatedStack) -> None:
    """After the faults: redrive every DLQ and let the queues settle (what an operator does)."""
    _redrive_all(stack)
    settle(stack)


def _under_faults(stack: EmulatedStack, batch: list[LeadEvent], *faults: AbstractContextManager[Rule]) -> EndState:
    """The batch on the queue, the queues settled under `faults`, then recovered; its end state."""
    want = expected(batch, pepper_of(stack), compiled_models())
    enqueue(stack, batch)
    with ExitStack() as active:
        for fault in faults:
            active.enter_context(fault)
        settle(stack)
    recover(stack)
    return end_state(stack, want)


def update_item_failures(
    stack: EmulatedStack, seed: int, ratio: float = 0.3, events: int = 200, leads: int = 20
) -> EndState:
    """Scenario 1: a share of every UpdateItem fails (after the SDK's own retries)."""
    batch = workload(events=events, leads=leads, seed=seed, tag=f"u{seed}")
    failing = inject(stack, "dynamodb", "UpdateItem", fail_ratio=ratio, seed=seed, error_code="InternalServerError")
    return _under_faults(stack, batch, failing)


def throttled_writes(
    stack: EmulatedStack, seed: int, ratio: float = 0.3, events: int = 200, leads: int = 20
) -> EndState:
    """Scenario 4: throttling on a share of DynamoDB writes (both throttling codes, after the SDK's retries)."""
    batch = workload(events=events, leads=leads, seed=seed, tag=f"t{seed}")
    return _under_faults(
        stack,
        batch,
        inject(stack, "dynamodb", "UpdateItem", fail_ratio=ratio / 2, seed=seed,
               error_code="ProvisionedThroughputExceededException"),
        inject(stack, "dynamodb", "UpdateItem", fail_ratio=ratio / 2, seed=seed + 1000,
               error_code="ThrottlingException"),
    )  # fmt: skip


def sns_outage(stack: EmulatedStack, events: int = 200, leads: int = 20) -> tuple[EndState, int]:
    """Scenario 3: SNS refuses every Publish while the queues settle, then comes back.

    Returns the end state and how many lead events were in the DLQ when the outage ended.
    """
    batch = workload(events=events, leads=leads, seed=3, tag="sns")
    want = expected(batch, pepper_of(stack), compiled_models())
    enqueue(stack, batch)
    with inject(stack, "sns", "Publish", fail_ratio=1.0, error_code="InternalError"):
        settle(stack)
    in_dlq = len(dlq_messages(stack, "LeadEventsDLQ"))
    recover(stack)
    return end_state(stack, want), in_dlq


def scorer_batch_calls(stack: EmulatedStack, leads: int, tag: str) -> int:
    """How many AWS calls the scorer makes on one batch of `crossing_batch(leads)` (no faults)."""
    batch = crossing_batch(leads, tag=tag)
    enqueue(stack, batch)
    scorer = next(poller for poller in stack.pollers if poller.function.logical_id == SCORER)
    with inject(stack, predicate=lambda call: False, functions=(SCORER,)) as seen:
        poll_once(scorer)
    settle(stack)
    delivered_alerts(stack)  # consume
    return seen.calls


def crash_at(stack: EmulatedStack, point: int, leads: int = 3) -> EndState:
    """Scenario 2: the scorer dies before its `point`-th AWS call of a batch; the batch is redelivered."""
    batch = crossing_batch(leads, tag=f"c{point}")
    want = expected(batch, pepper_of(stack), compiled_models())
    enqueue(stack, batch)
    scorer = next(poller for poller in stack.pollers if poller.function.logical_id == SCORER)

    def at_point(call: Call) -> bool:
        return call.index == point

    with inject(stack, predicate=at_point, crash=True, functions=(SCORER,)):
        poll_then_wait(stack, scorer)  # the batch the crash hits
    settle(stack)
    recover(stack)
    return end_state(stack, want)


def crash_every_point(stack: EmulatedStack, leads: int = 3, step: int = 1) -> tuple[int, Counter[str]]:
    """Scenario 2 over every call index of one batch: (points tried, summed end-state counters)."""
    points = scorer_batch_calls(stack, leads, tag="count")
    summary: Counter[str] = Counter()
    for point in range(0, points, step):
        state = crash_at(stack, point, leads)
        summary["duplicates"] += state.duplicate_alerts
        summary["missing"] += state.missing_alerts
        summary["wrong_totals"] += len(state.wrong_totals)
        summary["dlq"] += state.lead_events_dlq
        summary["owed"] += state.alerts_owed
        summary["pending"] += state.pending_outboxes
        summary["delivered"] += state.alerts_delivered
    return points, summary


Scenario = Callable[[EmulatedStack], EndState]
