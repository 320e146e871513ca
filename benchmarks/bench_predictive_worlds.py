"""What the predictive model is for: populations whose true drivers differ from the hand-set rules.

For each world of the generator (local/population.py `WORLDS`: `default`, close to the default rules, and
worlds where the rules are wrong guesses) and each train -> test pair of seeds, `leadscore train`'s own
code learns from seed A's weekly point-in-time examples (every choice, the L2 strength included, made on
seed A alone) and the artefact is judged, through the served pure-Python path, on seed B's examples.

Printed per pair: AUC of the predictive model, of the default rule model's total and of the oracle (the
generator's true probability), the paired bootstrap over seed B's leads of AUC(predictive) - AUC(rules)
with its 95 % interval (leadscore_cli/evaluation/auc_compare.py), the share of the rules-to-oracle gap
closed, and the calibration error (ECE) of the predictive model. Nothing is asserted.

`make bench` runs seed 7 -> 11 of the worlds other than `default` (bench_predictive.py judges that one);
the README's table is `python -m benchmarks.bench_predictive_worlds --all-pairs` (every world, three seed
pairs: 24.5 minutes on a shared 2-core machine at a load of 6-8).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from benchmarks.bench_predictive import MODEL_FILE, PEPPER, population_examples
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.models.model_files import load_model_file
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.auc_compare import AucComparison, compare_auc
from leadscore_cli.training.examples import Example
from leadscore_cli.training.learn import NotEnoughData, TrainingOptions, expected_calibration_error, labels, train_model
from local.population import WORLDS, Population

SEEDS = (7, 11, 13)  # --all-pairs: each population trains once and is judged once: 7 -> 11, 11 -> 13, 13 -> 7
PAIR = (7, 11)  # make bench: one pair (bench_predictive's), about 4 minutes for the two other worlds
REPLICATES = 1000


@dataclass(frozen=True)
class Built:
    population: Population
    times: list[int]
    examples: list[Example]


@dataclass(frozen=True)
class CrossSeed:
    world: str
    train_seed: int
    test_seed: int
    comparison: AucComparison
    ece: float
    base_rate: float
    converting: int
    strength: float


def build(leads: int, seed: int, model: CompiledModel, world: str) -> Built:
    population, _, times, examples = population_examples(leads, seed, model, world=world)
    return Built(population, times, examples)


def cross_seed(world: str, train: Built, test: Built, seeds: tuple[int, int], model: CompiledModel) -> CrossSeed:
    """Train on `train` (seed A alone), judge the served artefact on `test` (seed B)."""
    with threadpool_limits(limits=1):
        trained = train_model(
            train.examples, train.times, model, TrainingOptions(name=f"{world}-likelihood", test_share=0.2),
            window=(train.times[0], train.times[-1]),
        )  # fmt: skip
    predictor = Predictor(trained.artefact)
    examples = test.examples
    served = np.array([predictor.predict_features(example.features).probability for example in examples])
    outcome = labels(examples)
    truth = {lead_id_for(row.email, PEPPER): row.true_probability for row in test.population.truth}
    comparison = compare_auc(
        served,
        [example.rule_total for example in examples],
        outcome,
        [example.lead_id for example in examples],
        oracle=[truth[example.lead_id] for example in examples],
        replicates=REPLICATES,
    )
    return CrossSeed(
        world=world,
        train_seed=seeds[0],
        test_seed=seeds[1],
        comparison=comparison,
        ece=expected_calibration_error(served, outcome),
        base_rate=float(outcome.mean()),
        converting=len({example.lead_id for example in examples if example.label}),
        strength=float(trained.report["regularisation"]["C"]),
    )


def gap_text(comparison: AucComparison) -> str:
    """The share of the rules-to-oracle gap closed, or why there is none to speak of."""
    gap, closed = comparison.gap, comparison.gap_closed
    if gap is None or closed is None or gap.low <= 0:
        return "no clear gap to the oracle" if gap is None else f"gap to the oracle {gap.text()}: not clear"
    return f"gap closed {closed.estimate:.0%} [{closed.low:.0%}, {closed.high:.0%}]"


def line(result: CrossSeed) -> str:
    c = result.comparison
    verdict = "clear" if c.clear else "NOT clear"
    return (
        f"    seed {result.train_seed:>2} -> {result.test_seed:>2}: AUC predictive {c.auc_challenger:.3f} | rules "
        f"{c.auc_baseline:.3f} | oracle {c.auc_oracle or float('nan'):.3f}; difference {c.difference.text()} "
        f"({verdict}); {gap_text(c)}; ECE {result.ece:.3f} ({result.converting} converting leads, base rate "
        f"{result.base_rate:.3f}, C={result.strength:g})"
    )


def main(*, quick: bool = False, worlds: tuple[str, ...] = tuple(WORLDS), all_pairs: bool = False) -> list[CrossSeed]:
    leads = 2500 if quick else 4000
    seeds = SEEDS if all_pairs else PAIR
    pairs = [(a, seeds[(i + 1) % len(seeds)]) for i, a in enumerate(seeds)] if all_pairs else [PAIR]
    model = compile_model(load_model_file(MODEL_FILE))
    results: list[CrossSeed] = []
    for world in worlds:
        started = time.perf_counter()
        print(f"  world {world!r}: {WORLDS[world].description} ({leads:,} leads a seed)")
        built = {seed: build(leads, seed, model, world) for seed in seeds}
        for pair in pairs:
            try:
                result = cross_seed(world, built[pair[0]], built[pair[1]], pair, model)
            except NotEnoughData as refusal:
                print(f"    seed {pair[0]} -> {pair[1]}: training refused: {refusal}")
                continue
            results.append(result)
            print(line(result))
        print(f"    ({time.perf_counter() - started:.0f} s)")
    return results


if __name__ == "__main__":
    chosen = tuple(arg for arg in sys.argv[1:] if not arg.startswith("--")) or tuple(WORLDS)
    main(quick="--quick" in sys.argv, worlds=chosen, all_pairs="--all-pairs" in sys.argv)
