"""`make load` with the default model's predictive model served beside the rules (local/predictive_demo.py).

`--predictive auto` (the default) serves the artefact `make demo` trained (`.local-state/predictive/`), or
trains it first (about 12 s, the CLI's train extra); `--predictive PATH` serves that artefact; `off` the rules
alone. The end state then also checks the probability: every lead the scorer stored under the model has one,
from the served artefact (new leads are written by the exact path, which stores it in the same write), and
the load test prints the p stages and the mean probability.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from leadscore.adapters.score_item import RuleKeys, from_item
from leadscore.core.rules import CompiledModel
from local.predictive_demo import ARTEFACT, served_models_dir, train_and_deploy

OFF, AUTO = "off", "auto"


def served_models(option: str, state: Path) -> Path | None:
    """The models directory the load test serves (None: scoring/ as shipped, the rules alone)."""
    if option == OFF:
        return None
    if option != AUTO:
        return served_models_dir(Path(option), state / "load-scoring")
    trained = state / "predictive" / ARTEFACT
    if trained.is_file():
        return served_models_dir(trained, state / "load-scoring")
    print("  no trained artefact yet (make demo trains one): training the default model's predictive model…")
    return train_and_deploy(state)[1]


@dataclass
class ProbabilityCheck:
    leads: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    total: Decimal = Decimal(0)
    missing: list[str] = field(default_factory=list)  # leads stored without the served model's probability

    @property
    def ok(self) -> bool:
        return not self.missing

    def line(self) -> str:
        served = self.leads - len(self.missing)
        mean = self.total / served if served else Decimal(0)
        stages = ", ".join(f"{stage} {count}" for stage, count in sorted(self.stages.items())) or "no stages"
        return (
            f"  probability: {served} of {self.leads} leads carry one (mean {float(mean):.1%}; p stage {stages}); "
            f"missing {len(self.missing)}"
        )


def check_probabilities(
    stored_items: Sequence[dict[str, Any]], models: Sequence[CompiledModel]
) -> ProbabilityCheck | None:
    """Every score item of a model with a predictive block holds a probability from the served artefact
    (None: no model serves one)."""
    served = {model.id: model for model in models if model.predictive is not None}
    if not served:
        return None
    check = ProbabilityCheck()
    for item in stored_items:
        model = served.get(item["sk"]["S"].removeprefix("SCORE#"))
        if model is None or model.predictive is None:
            continue
        state = from_item(item, RuleKeys(model.rule_ids))
        check.leads += 1
        if state.probability is None or state.p_version != model.predictive.version:
            check.missing.append(f"{state.lead_id}/{model.id}: {state.probability} ({state.p_version})")
            continue
        check.total += state.probability
        check.stages[state.p_stage.value if state.p_stage is not None else "-"] += 1
    return check
