"""Faults injected at the AWS client level under the real handlers (tests/integration/faults.py), each scenario
ending with exact totals, one alert per crossing as sales receives it (after the FIFO hop), and every failed
record redelivered or in a DLQ. The workloads are small (moto serves each DynamoDB request in Python);
`python -m benchmarks.bench_alert_faults` runs them at 200 events / 20 leads and prints the counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest

from leadscore import clock
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.core.decay import apply_decay
from local.stack import EmulatedStack
from tests.integration.fault_scenarios import (
    SCORER,
    crash_at,
    scorer_batch_calls,
    sns_outage,
    throttled_writes,
    update_item_failures,
)
from tests.integration.fault_workload import EndState, compiled_models, crossing_batch, enqueue, workload
from tests.integration.faults import Call, delivered_alerts, dlq_messages, inject, poll_once, poll_then_wait, settle

EVENTS, LEADS = 30, 6


@pytest.fixture(autouse=True)
def _real_time_again() -> Iterator[None]:
    yield
    clock.reset()


def assert_exact(state: EndState) -> None:
    assert state.wrong_totals == []
    assert state.alerts_owed > 0  # the workload does cross the threshold: the check below means something
    assert (state.alerts_delivered, state.duplicate_alerts, state.missing_alerts) == (state.alerts_owed, 0, 0)
    assert state.pending_outboxes == 0
    assert state.lead_events_dlq == 0


@pytest.mark.parametrize("seed", [1, 2])
def test_30_percent_of_update_items_failing_double_counts_nothing_and_alerts_once(
    stack: EmulatedStack, seed: int
) -> None:
    # Given a workload on the queue, and 30 % of every function's UpdateItem calls failing
    # When the queues settle (failed records redelivered after the visibility timeout, DLQ after 5 receives),
    # the faults stop and the DLQs are redriven
    state = update_item_failures(stack, seed, events=EVENTS, leads=LEADS)

    # Then every score is exact and sales got one alert per crossing
    assert_exact(state)


def test_dynamodb_throttling_on_a_share_of_writes_loses_nothing(stack: EmulatedStack) -> None:
    # Given both throttling errors on 30 % of writes (after the SDK's own backoff)
    # When the queues settle and the DLQs are redriven
    state = throttled_writes(stack, seed=4, events=EVENTS, leads=LEADS)

    # Then the totals are exact and each crossing alerted once
    assert_exact(state)


def test_an_sns_outage_fails_no_scored_event_and_every_alert_goes_out_once_it_is_back(stack: EmulatedStack) -> None:
    # Given a workload, and SNS refusing every Publish while the queues settle
    # When SNS comes back and the alert DLQ is redriven
    state, lead_events_in_dlq_during_outage = sns_outage(stack, events=EVENTS, leads=LEADS)

    # Then no lead event failed because of the outage (all were scored), and sales got each alert once
    assert lead_events_in_dlq_during_outage == 0
    assert_exact(state)


def test_a_scorer_crash_at_every_point_of_a_batch_sends_no_alert_twice(stack: EmulatedStack) -> None:
    # Given one scorer batch in which a lead crosses the threshold, and how many AWS calls that batch makes
    points = scorer_batch_calls(stack, leads=1, tag="count")
    assert points >= 6  # profile, scores, outbox hand-off and hold: the alert path is inside the batch

    # When the scorer dies before each of those calls in turn, and the batch comes back after the timeout
    results = {point: crash_at(stack, point, leads=1) for point in range(points)}

    # Then at every point the score is exact and the one alert reached sales exactly once
    for point, state in results.items():
        assert (point, state.wrong_totals) == (point, [])
        assert (point, state.alerts_delivered, state.duplicate_alerts) == (point, 1, 0)
        assert (point, state.pending_outboxes, state.lead_events_dlq) == (point, 0, 0)


def test_a_sender_crash_at_every_point_leaves_at_most_the_documented_window(stack: EmulatedStack) -> None:
    # Given a lead that crossed, its alert on the FIFO queue
    sender = "SendAlertsFunction"
    scorer = next(p for p in stack.pollers if p.function.logical_id == SCORER)
    alerts = next(p for p in stack.pollers if p.function.logical_id == sender)
    outcomes: list[tuple[int, int]] = []
    for point in range(4):  # begin publish, SNS publish, clear outbox, (beyond: no crash)
        enqueue(stack, crossing_batch(1, tag=f"s{point}"))
        poll_once(scorer)

        # When the sender dies before its `point`-th AWS call, and the alert comes back after the timeout
        with inject(stack, predicate=lambda call, p=point: call.index == p, crash=True, functions=(sender,)):
            poll_then_wait(stack, alerts)
        settle(stack)
        outcomes.append((point, sum(delivered_alerts(stack).values())))

    # Then only a crash between SNS accepting and the outbox clear (before call 2) sends a second email
    assert outcomes == [(0, 1), (1, 1), (2, 2), (3, 1)]


def test_a_decay_crash_mid_segment_is_finished_by_the_retry_without_double_decay(stack: EmulatedStack) -> None:
    # Given scored leads, three weeks later, and what one decay run must leave (the pure core)
    batch = workload(events=24, leads=8, seed=5, tag="decay")
    enqueue(stack, batch)
    settle(stack)
    delivered_alerts(stack)
    [model] = compiled_models()
    store = DynamoLeadStore(boto3.client("dynamodb"), stack.physical("LeadsTable"), [model])
    # Three weeks later at the scheduled hour (02:15 UTC): the waits below move the clock by about 30 minutes,
    # and "the same day" must not cross midnight (this failed whenever the suite ran after 23:30 UTC).
    later = clock.now() + timedelta(weeks=3)
    clock.advance(later.replace(hour=2, minute=15, second=0, microsecond=0) - clock.now())
    run_at = clock.now_epoch()
    lead_ids = [str(item["pk"]).removeprefix("LEAD#") for item in stack.score_items()]
    before = {lead: store.load(lead, model.id) for lead in lead_ids}
    want = {lead: apply_decay(state, model, now=run_at).state for lead, state in before.items() if state}
    decayed_writes = sum(1 for lead, state in want.items() if state.engagement != before[lead].engagement)  # type: ignore[union-attr]
    assert decayed_writes >= 4

    # When the scheduled run plans its segments and the decay function dies before its third write
    stack.invoke("DecayScoresFunction", {"action": "plan"})

    def third_write(call: Call) -> bool:
        return call.index == 2

    with inject(stack, "dynamodb", "UpdateItem", predicate=third_write, crash=True,
                functions=("DecayScoresFunction",)) as crash:  # fmt: skip
        settle(stack)

    # Then the crash did happen mid-run, the redelivered segment finished it, and every lead was decayed once
    assert len(crash.failed) == 1
    for lead, expected in want.items():
        stored = store.load(lead, model.id)
        assert stored is not None
        assert (stored.engagement, stored.total, stored.stage) == (expected.engagement, expected.total, expected.stage)
        assert stored.points == expected.points
    assert dlq_messages(stack, "DecaySegmentsDLQ") == []

    # And running the job again the same day changes nothing
    versions = {lead: store.load(lead, model.id).version for lead in want}  # type: ignore[union-attr]
    stack.invoke("DecayScoresFunction", {"action": "plan"})
    settle(stack)
    assert {lead: store.load(lead, model.id).version for lead in want} == versions  # type: ignore[union-attr]
    assert Decimal(0) <= min(state.engagement for state in want.values())


def test_an_alert_stranded_by_an_alert_queue_outage_goes_out_with_the_next_sweep(stack: EmulatedStack) -> None:
    # Given a crossing batch, and the alert FIFO queue refusing the scorer's hand-off
    enqueue(stack, crossing_batch(2, tag="sweep"))
    with inject(stack, "sqs", "SendMessage", fail_ratio=1.0, error_code="ServiceUnavailable", functions=(SCORER,)):
        settle(stack)

    # Then every event was scored (no record failed for the alert) and the alerts wait in their outboxes
    assert dlq_messages(stack, "LeadEventsDLQ") == []
    assert delivered_alerts(stack) == {}
    assert sum(1 for item in stack.score_items() if "pending" in item) == 2

    # When the sweep's schedule fires (the leads have no further event)
    result = stack.run_schedule("AlertSweepSchedule")

    # Then it handed both over, sales got each once, and the outboxes are empty
    assert result == {"handed_over": 2}
    assert sorted(delivered_alerts(stack).values()) == [1, 1]
    assert [item for item in stack.score_items() if "pending" in item or "alert_pk" in item] == []
