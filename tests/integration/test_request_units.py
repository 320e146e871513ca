"""Request counts per scored event, measured through botocore against moto (the benchmark's meter).

Counts only, never time: a fast-path event is one UpdateItem and no read, priced at one write unit.
"""

from __future__ import annotations

from benchmarks.bench_dynamodb import realistic_stream, run_naive, run_ours
from tests.unit.builders import the_default_model


def test_steady_state_events_cost_one_write_unit_and_no_read() -> None:
    # Given 15 leads' first month: forms, opens, clicks and page views, with redeliveries
    model = the_default_model()
    events = realistic_stream(leads=15, events_per_lead=8, seed=3)

    # When the real service scores them against DynamoDB (moto), and a naive read-modify-write does too
    ours = run_ours(events, model)
    naive = run_naive(events, model)

    # Then every fast-path event was exactly one conditional UpdateItem, no read, one write unit
    fast = ours["paths"]["fast"]
    assert fast["events"] > len(events) // 3
    assert fast["UpdateItem"] == fast["writes"] == fast["wcu"] == fast["events"]
    assert fast["reads"] == 0
    # ... events no rule scores cost nothing, and every score item fits one write unit
    assert ours["paths"]["no_op"]["writes"] == ours["paths"]["no_op"]["reads"] == 0
    assert max(ours["sizes"]["score"]) <= 1024
    # ... while the naive baseline reads the item for every event
    assert naive["total"]["reads"] == len(events)
