"""Serving a predictive block: what it adds to a scored event, in core microseconds and in DynamoDB requests.

Printed, never asserted. The artefact is built for scoring/default.yaml over every feature the stream
produces (deterministic coefficients: the cost does not depend on what was learned, only on how many
features a lead has); stages are put at the stream's own probability quantiles so some leads cross them.
"""

from __future__ import annotations

import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from benchmarks.bench_dynamodb import ROOT, _percentile, _row, realistic_stream, run_ours
from benchmarks.capacity import item_size, write_units
from leadscore.adapters.score_item import RuleKeys, from_item, to_item
from leadscore.core.identity import lead_id_for
from leadscore.core.prediction import ServedPredictor, estimate, store_estimate
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState, StoredFactor
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import PredictiveSettings, PredictiveStages
from leadscore.predictive.features import feature_group, group_description, lead_features
from leadscore.predictive.inference import Predictor
from leadscore.predictive.words import stored_factor_label

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
    """Every feature the states produce, with a fixed pseudo-random weight (the cost is per feature), grouped
    and labelled as `leadscore train` groups and labels them (the rule's description, the family's words)."""
    names = sorted({name for state, at in states for name in lead_features(state, model, at)})
    rng = random.Random(5)
    features = [
        {
            "name": name,
            "group": feature_group(name),
            "label": group_description(feature_group(name), model.descriptions),
            "transform": "see features.py",
            "mean": 0.0,
            "scale": 1.0,
            "coefficient": round(rng.uniform(-0.4, 0.5), 3),
        }
        for name in names
    ]
    return json.dumps(
        {
            # a version as `leadscore train` writes one (minute and digest): the item stores it (p_version)
            "artefact_version": 1, "name": "bench", "version": "202612010000-5e1f0c2a", "base_model": model.id,
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


def _interleaved_best_us(
    rounds: int, count: int, steps: dict[str, tuple[Callable[[], Any], Callable[[Any], object]]]
) -> dict[str, float]:
    """Best CPU µs per item of each step's `work(prepare())` (prepare is not timed), and its median under
    `<step>_median`. The steps take turns round after round, so a burst of load on a shared machine hits
    them alike."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, (prepare, work) in steps.items():
            prepared = prepare()
            started = time.process_time()
            work(prepared)
            samples[name].append((time.process_time() - started) / count * 1e6)
    best = {name: min(values) for name, values in samples.items()}
    return best | {f"{name}_median": statistics.median(values) for name, values in samples.items()}


def inference_costs(
    model: CompiledModel, with_block: CompiledModel, states: list[tuple[ScoreState, int]], artefact: str
) -> dict[str, float]:
    """CPU µs per event of each step serving adds, on freshly decoded states (new Decimals, as a decoded item
    or a scored state has: a Decimal caches its hash once computed), with the predictor warm (as in a
    container after its first events). `before_us` is the reference path: the feature dict, then the
    dot product (what `predict` did before the serving plan), on the same states in the same rounds."""
    keys = RuleKeys(model.rule_ids)
    items = [(to_item(state, keys), at) for state, at in states] * max(1, 600 // len(states))
    served_block = with_block.predictive
    assert served_block is not None
    predictor = served_block.predictor

    def fresh() -> list[tuple[ScoreState, int]]:
        return [(from_item(item, keys, fast=True), at) for item, at in items]

    def predictions() -> list[Any]:
        return [predictor.predict(state, with_block, at) for state, at in fresh()]

    def serve_all(st: list[tuple[ScoreState, int]]) -> None:  # what score_events adds: estimate, then store
        for s, at in st:
            found = estimate(s, with_block, at)
            assert found is not None
            store_estimate(s, found, with_block, seed="x", now=at, lease_seconds=60)

    costs = _interleaved_best_us(
        11,
        len(items),
        {
            "predict_top_us": (fresh, lambda st: [predictor.predict(s, with_block, at).top(3) for s, at in st]),
            "served_us": (fresh, serve_all),
            "features_us": (fresh, lambda st: [lead_features(s, model, at) for s, at in st]),
            "logit_us": (fresh, lambda st: [predictor.predict(s, with_block, at) for s, at in st]),
            "top_us": (predictions, lambda ps: [p.top(3) for p in ps]),
            "before_us": (
                fresh,
                lambda st: [predictor.predict_features(lead_features(s, model, at)).top(3) for s, at in st],
            ),
        },
    )
    # The steps above repeat the same leads, so the predictor's caches (labels and Factors, the plan's records
    # per score pair, band, day count) are warm. A container's first leads find them empty: a new predictor
    # per round (its plan built on one lead first), each of the leads once.
    distinct = items[: len(states)]

    def cold_predictor() -> tuple[CompiledModel, list[tuple[ScoreState, int]]]:
        block = replace(served_block, predictor=Predictor.from_json(artefact))
        cold_model = replace(with_block, predictive=block)
        first, at = fresh()[0]
        block.predictor.predict(first, cold_model, at)
        return cold_model, [(from_item(item, keys, fast=True), at) for item, at in distinct]

    def cold_run(prepared: tuple[CompiledModel, list[tuple[ScoreState, int]]]) -> object:
        cold_model, cold_states = prepared
        served_cold = cold_model.predictive
        assert served_cold is not None
        return [served_cold.predictor.predict(s, cold_model, at).top(3) for s, at in cold_states]

    costs |= _interleaved_best_us(11, len(distinct), {"cold_predictor_us": (cold_predictor, cold_run)})
    # The first prediction after a cold start builds the model's plan and words its first labels.
    cold = Predictor.from_json(artefact)
    state, at = fresh()[0]
    started = time.process_time()
    cold.predict(state, with_block, at).top(3)
    costs["first_us"] = (time.process_time() - started) * 1e6
    return costs


def cold_import_ms(runs: int = 15) -> dict[str, float]:
    """Median CPU ms to import the predictive modules the scorer loads (inference, artefact, plan) in fresh
    interpreters (bytecode compiled, as in the deployed layer): alone, and after what the scorer has already
    imported (its scoring service and the pydantic model files), which is what a predictive block adds."""
    layer = str(ROOT / "layers" / "leadscore")
    probe = (
        "import time{pre}; t = time.process_time(); import leadscore.predictive.inference, "
        "leadscore.predictive.artefact, leadscore.predictive.plan; print((time.process_time() - t) * 1000)"
    )
    compileall.compile_dir(str(ROOT / "layers" / "leadscore" / "leadscore"), quiet=1)
    figures = {}
    for name, pre in (
        ("alone", ""),
        ("on_scorer", "; import leadscore.services.scoring, leadscore.models.model_files"),
    ):
        samples = [
            float(subprocess.run(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", probe.format(pre=pre)], capture_output=True, text=True, check=True,
                env={"PYTHONPATH": layer},  # PYTHONDONTWRITEBYTECODE unset: the compiled .pyc is used
            ).stdout)
            for _ in range(runs)
        ]  # fmt: skip
        figures[name] = statistics.median(samples)
    return figures


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


def _sizes(items: list[dict[str, Any]]) -> str:
    sizes = [item_size(item) for item in items]
    over = sum(write_units(size, size) > 1 for size in sizes)
    return (
        f"p50 {statistics.median(sizes):.0f} B, p95 {_percentile(sizes, 0.95)} B, max {max(sizes)} B, "
        f"{over} of {len(sizes)} over one write unit"
    )


def factor_layouts(model: CompiledModel, with_block: CompiledModel, states: list[tuple[ScoreState, int]]) -> str:
    """Each lead's item after its last event's write, with the block's factors stored as today (key and
    details) and as they were stored before (their words), and without the block: what the layout saves."""
    keys = RuleKeys(model.rule_ids)
    plain, keyed, worded = [], [], []
    for state, at in states:
        plain.append(to_item(state, keys))
        served_state = replace(state)
        found = estimate(served_state, with_block, at)
        assert found is not None
        store_estimate(served_state, found, with_block, seed="x", now=at, lease_seconds=60)
        keyed.append(to_item(served_state, keys))
        words = tuple(
            StoredFactor("", factor.contribution, (), stored_factor_label(factor, model.descriptions))
            for factor in served_state.p_factors
        )
        worded.append(to_item(replace(served_state, p_factors=words), keys))
    return (
        f"  score item after each lead's last write (pure, {len(states)} leads): with the block, factors in words "
        f"{_sizes(worded)}; by key {_sizes(keyed)}; without the block {_sizes(plain)}"
    )


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
    served_artefact = Predictor.from_json(artefact).artefact
    inference = inference_costs(model, with_block, states, artefact)
    load = os.getloadavg()[0]
    say(
        f"  inference, CPU µs per event ({len(states)} leads, {costs['features']:.1f} features and "
        f"{len(served_artefact.features)} weights; median (best) of 11 interleaved rounds; load average "
        f"{load:.1f} on {os.cpu_count()} CPUs):"
    )
    say(
        f"    predict + top(3): {inference['predict_top_us_median']:.1f} ({inference['predict_top_us']:.1f}) µs "
        f"(target < 20 µs); predict alone {inference['logit_us_median']:.1f}, top(3) on its prediction "
        f"{inference['top_us_median']:.1f}; the reference path (predict_features(lead_features(...)) + top(3)): "
        f"{inference['before_us_median']:.1f}, of which the feature dict {inference['features_us_median']:.1f}; "
        f"with the predictor's caches empty (a new predictor, {len(states)} leads once each) "
        f"{inference['cold_predictor_us_median']:.1f} ({inference['cold_predictor_us']:.1f})"
    )
    say(
        f"    what score_events adds per scored event with the block, estimate + store_estimate (the above, the "
        f"stored Decimals and p_stage; core/prediction.py): {inference['served_us_median']:.1f} "
        f"({inference['served_us']:.1f}) µs; first prediction after load {inference['first_us']:.0f} µs (plan built)"
    )
    imports = cold_import_ms(runs=7 if quick else 15)
    say(
        f"  cold import of the predictive modules (inference, artefact, plan; CPU, median of "
        f"{7 if quick else 15} fresh interpreters): {imports['on_scorer']:.1f} ms on top of what the scorer "
        f"imports (target < 5 ms), {imports['alone']:.1f} ms alone (stdlib dataclasses, decimal, datetime "
        f"included); load average {os.getloadavg()[0]:.1f}"
    )
    say(
        f"  exact transition {costs['exact_rules_us']:.1f} µs rules only, {costs['exact_block_us']:.1f} µs "
        f"with the block"
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
        f"  score item with the block: p50 {statistics.median(scores_block):.0f} B, p95 "
        f"{_percentile(scores_block, 0.95)} B, max {max(scores_block)} B ({sum(size > 1024 for size in scores_block)} "
        f"of {len(scores_block)} over 1 KB); without: p50 {statistics.median(scores_plain):.0f} B, p95 "
        f"{_percentile(scores_plain, 0.95)} B, max {max(scores_plain)} B"
    )
    say(factor_layouts(model, with_block, states))
    return {**costs, **inference, **imports, "fast_extra_writes": extra, "fast_events": fast_block["events"]}


if __name__ == "__main__":
    main(quick=True)
