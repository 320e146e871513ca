"""The decay job on a table of 100,000 leads of which 10 % have something to decay (moto in-process).

What matters is that the job reads and writes about the decayable leads, not the table: the figures are
items read and written, DynamoDB requests by operation, write units (AWS's size rule), and wall time.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks.bench_dynamodb import emulated_table
from benchmarks.capacity import item_size, write_units
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.score_item import RuleKeys, to_item
from leadscore.core.decay import apply_decay, epoch_day
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.stages import DAY_SECONDS, day_code
from leadscore.core.state import ScoreState, Stage
from leadscore.models.model_files import load_model_file
from leadscore.services.decay import DecaySegment, DecayService
from local.stack import ROOT

NOW = 1_795_392_000  # 2026-11-23 00:00 UTC
RULES = ("demo_request", "pricing_interest", "webinar", "email_open", "whitepaper")


def a_lead(index: int, model: CompiledModel, *, decayable: bool, rng: random.Random) -> ScoreState:
    lead_id = f"{index:08x}{rng.getrandbits(64):016x}"
    state = ScoreState(lead_id=lead_id, model_id=model.id, model_version=model.version, version=3)
    state.fit = Decimal(rng.choice((-10, 15, 30, 55)))
    state.created_at = state.updated_at = NOW - 90 * DAY_SECONDS
    if decayable:
        active = NOW - rng.randint(1, 60) * DAY_SECONDS
        rules = rng.sample(RULES, rng.randint(1, 3))
        state.points = {rule: Decimal(rng.choice((1, 5, 10, 40))) for rule in rules}
        state.hits = dict.fromkeys(rules, 1)
        state.rule_days = dict.fromkeys(rules, day_code(active))
        state.engagement = sum(state.points.values(), Decimal(0))
        state.last_activity_at = active
    else:  # quiet for good: engagement at the floor (or suppressed), so not in the decay index
        state.last_activity_at = NOW - rng.randint(1, 400) * DAY_SECONDS
        state.suppressed = rng.random() < 0.2
    state.total = state.fit + state.engagement
    state.stage = Stage.SQL if state.total >= 75 else Stage.MQL if state.total >= 40 else Stage.LEAD
    return state


def load(client: Any, table: str, states: list[ScoreState], keys: RuleKeys) -> None:
    for start in range(0, len(states), 25):
        batch = [{"PutRequest": {"Item": to_item(state, keys)}} for state in states[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})


def _scan_decayed(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, FilterExpression="attribute_exists(dz)"):
        items += page["Items"]
    return items


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, float]:
    total, share = (20_000, 0.1) if quick else (100_000, 0.1)
    model = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    keys = RuleKeys(model.rule_ids)
    rng = random.Random(5)
    decayable = int(total * share)
    states = [a_lead(i, model, decayable=i < decayable, rng=rng) for i in range(total)]
    rng.shuffle(states)
    due = [state for state in states if state.engagement > 0 and not state.suppressed]
    started = time.perf_counter()
    for state in due:
        apply_decay(state, model, now=NOW + 3600)
    core_rate = len(due) / (time.perf_counter() - started)
    say(f"  core apply_decay: {core_rate:,.0f} leads/s (pure Python, no I/O; what a segment computes per lead)")
    with emulated_table() as (table, _, _meter):
        import boto3  # noqa: PLC0415 - an unmetered client for loading, inside the emulation

        started = time.perf_counter()
        load(boto3.client("dynamodb"), table, states, keys)
        say(f"  loaded {total:,} leads ({decayable:,} decayable) in {time.perf_counter() - started:.1f}s")

        # Requests counted by operation on a plain client (the size-pricing meter would triple the requests
        # of a 10,000-write run); write units follow from the written items' sizes (AWS's rule, capacity.py).
        counted = boto3.client("dynamodb")
        requests: Counter[str] = Counter()
        counted.meta.events.register("before-call.dynamodb", lambda model, **_: requests.update([model.name]))
        service = DecayService(store=DynamoLeadStore(counted, table, [model]), models=[model])
        started = time.perf_counter()
        read = written = recycled = 0
        for planned in service.plan(NOW + 3600):
            segment: DecaySegment | None = planned
            while segment is not None:  # a continuation is what the queue would hand the next invocation
                report = service.run(segment, lambda: 300.0)
                read, written, recycled = read + report.read, written + report.written, recycled + report.recycled
                segment = report.continuation
        elapsed = time.perf_counter() - started
        sizes = [item_size(item) for item in _scan_decayed(boto3.client("dynamodb"), table)]
        units = sum(write_units(size, size) for size in sizes)
        say(f"  decay run (day {epoch_day(NOW)}): read {read:,} items, wrote {written:,} ({recycled:,} recycled)")
        say(f"  of {total:,} leads in the table: read {read / total:.1%}, wrote {written / total:.1%}")
        say(
            "  requests: "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(requests.items()))
            + f"; about {units:,} write units ({units / max(written, 1):.2f} per written lead, items "
            + f"{min(sizes, default=0)}-{max(sizes, default=0)} B)"
        )
        say(f"  wall time {elapsed:.1f}s locally ({read / elapsed:,.0f} leads/s through moto in-process)")
        return {"read": read, "written": written, "seconds": elapsed, "table": total, "core_rate": core_rate}
