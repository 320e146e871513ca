"""Serving a predictive block: what it adds to a scored event, in core microseconds and in DynamoDB requests.

Printed, never asserted. The artefact is built for scoring/default.yaml over every feature the stream
produces (deterministic coefficients: the cost does not depend on what was learned, only on how many
features a lead has); stages are put at the stream's own probability quantiles so some leads cross them.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from benchmarks.bench_dynamodb import ROOT, _percentile, _row, realistic_stream, run_ours
from leadscore.adapters.score_item import RuleKeys, from_item, to_item
from leadscore.core.identity import lead_id_for
from leadscore.core.prediction import ServedPredictor, estimate, store_estimate
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import PredictiveSettings, PredictiveStages
from leadscore.predictive.features import feature_group, lead_features
from leadscore.predictive.inference import Predictor

PEPPER = b"bench"


def _scored_states(model: CompiledModel, leads: int, per_lead: int) -> list[tuple[ScoreState, int]]:
    states: dict[str, ScoreState] = {}
    at: dict[str, int] = {}
    for event in realistic_stream(leads, per_lead):
        lead_id = lead_id_for(event.email, PEPPER)
        facts = facts_from_event(event)
        result = score_event(
            facts,
            model,
            states.get(lead_id) or new_state(lead_id, model),
            now=facts.occurred_at,
            alert_lease_seconds=60,
        )
        states[lead_id] = replace(result.state, alert_pending=None)
        at[lead_id] = facts.occurred_at
    return [(state, at[lead_id]) for lead_id, state in states.items()]


def an_artefact_for(model: CompiledModel, states: list[tuple[ScoreState, int]]) -> str:
    """Every feature the states produce, with a fixed pseudo-random weight (the cost is per feature)."""
    names = sorted({name for state, at in states for name in lead_features(state, model, at)})
    rng = random.Random(5)
    features = [
        {
            "name": name,
            "group": feature_group(name),  # as `leadscore train` groups them
            "label": name,
            "transform": "see features.py",
            "mean": 0.0,
            "scale": 1.0,
            "coefficient": round(rng.uniform(-0.4, 0.5), 3),
        }
        for name in names
    ]
    return json.dumps(
        {
            "artefact_version": 1, "name": "bench", "version": "bench-1", "base_model": model.id,
            "base_model_version": model.version, "feature_set_version": 1, "trained_at": "2026-12-01T00:00:00Z",
            "training_window": {}, "target": "bench", "features": features, "intercept": -3.0,
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0}, "report": {},
            "drift_reference": {"features": {}, "probability": {"edges": [0.0, 1.0], "shares": [1.0]}},
        }
    )  # fmt: skip


def served(model: CompiledModel, artefact: str, stages: tuple[float, float], *, alerts: bool = False) -> CompiledModel:
    settings = PredictiveSettings(
        artefact="bench.json",
        stages=PredictiveStages.model_validate({"mql": stages[0], "sql": stages[1]}),
        alerts=alerts,
    )
    return replace(model, predictive=ServedPredictor(settings, Predictor.from_json(artefact)))


def _best_us(runs: int, count: int, work: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, (time.perf_counter() - started) / count * 1e6)
    return best


def core_costs(
    model: CompiledModel, with_block: CompiledModel, states: list[tuple[ScoreState, int]]
) -> dict[str, float]:
    keys = RuleKeys(model.rule_ids)
    items = [to_item(state, keys) for state, _ in states]

    def predict_all() -> None:
        for state, at in states:
            found = estimate(state, with_block, at)
            assert found is not None
            store_estimate(replace(state), found, with_block, seed="x", now=at, lease_seconds=60)

    def decode_all(fast: bool) -> Callable[[], None]:
        def run() -> None:
            for item in items:
                from_item(item, keys, fast=fast)

        return run

    events = [facts_from_event(event) for event in realistic_stream(len(states), 12, seed=3)]

    def score_all(chosen: CompiledModel) -> Callable[[], None]:
        def run() -> None:
            current: dict[str, ScoreState] = {}
            for facts in events:
                lead = facts.email_domain + facts.event_id[:2]
                result = score_event(
                    facts,
                    chosen,
                    current.get(lead) or new_state(lead, chosen),
                    now=facts.occurred_at,
                    alert_lease_seconds=60,
                )
                state = result.state
                found = estimate(state, chosen, facts.occurred_at)
                if found is not None:
                    store_estimate(state, found, chosen, seed="x", now=facts.occurred_at, lease_seconds=60)
                current[lead] = replace(state, alert_pending=None)

        return run

    features = statistics.mean(len(lead_features(state, model, at)) for state, at in states)
    return {
        "features": features,
        "predict_us": _best_us(5, len(states), predict_all),
        "decode_fast_us": _best_us(5, len(items), decode_all(True)),
        "decode_boto_us": _best_us(5, len(items), decode_all(False)),
        "exact_rules_us": _best_us(3, len(events), score_all(model)),
        "exact_block_us": _best_us(3, len(events), score_all(with_block)),
    }


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, Any]:
    leads, per_lead = (60, 10) if quick else (300, 12)
    model = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    states = _scored_states(model, leads, per_lead)
    artefact = an_artefact_for(model, states)
    probabilities = sorted(
        float(found.probability)
        for state, at in states
        if (found := estimate(state, served(model, artefact, (0.1, 0.2)), at))
    )
    stages = (probabilities[len(probabilities) // 2], probabilities[int(len(probabilities) * 0.8)])
    with_block = served(model, artefact, stages)

    costs = core_costs(model, with_block, states)
    say(
        f"  core: {costs['features']:.1f} features a lead; estimate + store {costs['predict_us']:.1f} µs a lead "
        f"(target < 20 µs); exact transition {costs['exact_rules_us']:.1f} µs rules only, "
        f"{costs['exact_block_us']:.1f} µs with the block"
    )
    say(
        f"  fast path: decoding its ALL_NEW item {costs['decode_fast_us']:.1f} µs (plain decoder; boto3's "
        f"TypeDeserializer {costs['decode_boto_us']:.1f} µs), only for a model with a block"
    )

    events = realistic_stream(leads, per_lead)
    plain = run_ours(events, model)
    block = run_ours(events, with_block)
    say(
        f"  {len(events):,} events, {leads} leads; stages at the stream's p50/p80 "
        f"(mql {stages[0]:.3f}, sql {stages[1]:.3f}):"
    )
    for label, run in (("rules only", plain), ("with the block", block)):
        for path in ("fast", "exact"):
            say(_row(f"{label}: {path}", run["paths"].get(path, Counter())))
        say(_row(f"{label}: all events", run["total"]))
    fast_plain, fast_block = plain["paths"].get("fast", Counter()), block["paths"].get("fast", Counter())
    extra = fast_block["writes"] - fast_block["events"]
    scores_plain, scores_block = plain["sizes"]["score"], block["sizes"]["score"]
    say(
        f"  fast path: {fast_block['writes'] / max(1, fast_block['events']):.3f} writes per event with the block "
        f"({extra} predictive-stage crossings written) vs {fast_plain['writes'] / max(1, fast_plain['events']):.3f}; "
        f"reads {fast_block['reads']} vs {fast_plain['reads']}"
    )
    say(
        f"  score item p95 {_percentile(scores_block, 0.95)} B with the block vs {_percentile(scores_plain, 0.95)} B "
        f"({sum(size > 1024 for size in scores_block)} of {len(scores_block)} over 1 KB)"
    )
    return {**costs, "fast_extra_writes": extra, "fast_events": fast_block["events"]}


if __name__ == "__main__":
    main(quick=True)
