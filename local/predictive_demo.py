"""The demo's predictive model, deployed side by side with the rules (README "Predictive scoring").

Before the live demo starts, `leadscore train`'s examples and learner train the default model's predictive
model on a simulated population (local/evaluation_demo.py: seed 11, 1,200 leads; about 12 s) and the demo
serves it as a deployment would: a copy of scoring/ with the artefact in `predictive/` and a `predictive:`
block in default.yaml (`EmulatedStack(models_dir=…)` points SCORING_MODELS_DIR at it). The scorer and the
decay job then store `probability`, `p_stage` and the top factors on every lead, alerts show them, and the
leads API recomputes them at request time. The evaluation at the end judges the same artefact.

Training needs the CLI's `train` extra (scikit-learn; `make install` has it). Without it, or when the trainer
refuses, the demo runs the rules alone and says why.
"""

from __future__ import annotations

import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

if TYPE_CHECKING:
    from local.jwt_issuer import LocalIssuer

ROOT = Path(__file__).resolve().parents[1]  # not local.stack's: importing that starts nothing, but costs moto

ARTEFACT = "default-likelihood.json"
# The README's example stages. A demo lead is judged on two weeks of history: few reach them.
DEMO_STAGES = {"mql": 0.15, "sql": 0.35}


def predictive_block(stages: dict[str, float] | None = None, *, alerts: bool = False) -> dict[str, Any]:
    """The `predictive:` block the demo adds to default.yaml (alerts stay off: the rules alert sales)."""
    return {"artefact": ARTEFACT, "stages": dict(stages or DEMO_STAGES), "alerts": alerts}


def served_models_dir(artefact: Path, target: Path, *, block: dict[str, Any] | None = None) -> Path:
    """A copy of scoring/ under `target` serving `artefact` beside the default model (what a deployment ships)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "scoring", target)
    model_file = target / "default.yaml"
    document = yaml.safe_load(model_file.read_text(encoding="utf-8"))
    document["predictive"] = block or predictive_block()
    model_file.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (target / "predictive").mkdir(exist_ok=True)
    shutil.copyfile(artefact, target / "predictive" / ARTEFACT)
    return target


def train_and_deploy(state: Path) -> tuple[Path | None, Path | None]:
    """Train the demo's artefact (under `state/predictive/`) and build the models directory serving it.

    Returns (artefact, models directory); (None, None) when it could not be trained (the reason is printed).
    """
    from local.evaluation_demo import TRAIN_LEADS, TRAIN_SEED, train_on_population  # noqa: PLC0415

    try:
        artefact = train_on_population(TRAIN_LEADS, TRAIN_SEED, state / "predictive" / ARTEFACT)
    except ImportError as exc:  # the CLI's train extra (scikit-learn) is missing
        print(f"  predictive model not trained ({exc.name} is missing: pip install 'leadscore[train]'); rules only")
        return None, None
    if artefact is None:
        return None, None
    return artefact, served_models_dir(artefact, state / "scoring")


class LeadsApiStack(Protocol):
    """What the probability section needs from the local runtime (local/stack.py's EmulatedStack)."""

    issuer: LocalIssuer

    def score_items(self) -> list[dict[str, Any]]: ...
    def profiles(self) -> dict[str, dict[str, Any]]: ...
    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]: ...


def percent(value: Any) -> str:
    """A probability as the leaderboard shows it ('-': none stored)."""
    return "-" if value is None else f"{float(value):.1%}"


SHOWN = 5  # leads whose page the section reads through the leads API


def print_probabilities(stack: LeadsApiStack) -> list[dict[str, Any]]:
    """The predictive block as sales sees it: each of the top leads' page from the leads API (GET /leads/{id}),
    probability recomputed now beside the stored one, its stage on probability and its top factors.

    Returns the `predictive` parts read (empty when the default model serves no predictive block)."""
    items = [item for item in stack.score_items() if item.get("p_version")]
    if not items:
        return []
    stages = Counter(str(item.get("p_stage") or "-") for item in items)
    top = sorted(items, key=lambda item: Decimal(str(item["total"])), reverse=True)[:SHOWN]
    profiles = stack.profiles()
    token = stack.issuer.mint()
    print(
        f"\n{'=' * 100}\n4b. The probability beside the rules: predictive model {items[0]['p_version']} on "
        f"{len(items)} leads (p stage: {', '.join(f'{stage} {count}' for stage, count in sorted(stages.items()))})"
        f"\n    GET /leads/{{lead id}} for the top {len(top)} (the leads API recomputes it now; 'stored' lags "
        f"after fast-path events)\n{'=' * 100}"
    )
    shown: list[dict[str, Any]] = []
    for item in top:
        lead_id = str(item["pk"]).removeprefix("LEAD#")
        status, _, page = stack.request("GET", f"/leads/{lead_id}", token=token)
        [score] = (
            [model for model in page.get("models", []) if model["model_id"] == "default"] if status == 200 else [{}]
        )
        block = score.get("predictive")
        profile = profiles.get(item["pk"], {})
        name = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip() or "?"
        if not block:
            print(f"  {status}  {name:<22} no probability in the answer")
            continue
        shown.append(block)
        print(
            f"  {status}  {name:<22} rules: {score['stage']:<4} {score['total']:>6.1f} | probability "
            f"{percent(block['probability']):>6} (stored {percent(block['stored_probability'])}), "
            f"p stage {block['p_stage'] or '-'}"
        )
        for factor in block["factors"]:
            print(f"        {factor['contribution']:+.2f}  {factor['label']}")
    return shown
