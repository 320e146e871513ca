"""A small hand-written predictive artefact (C3, artefact_version 1) on scoring/default.yaml's rules.

Weights a salesperson would guess: a demo request and pricing interest raise the odds, an executive title
too, a webmail address lowers them, recent activity helps. Its drift reference says that at training time
most leads had no demo request and probabilities mostly below 20 %.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from leadscore.predictive.features import FEATURE_SET_VERSION

FEATURES = (  # name, group, label, coefficient (standardised with mean 0, scale 1: the weight itself)
    ("eng:demo_request:hits", "eng:demo_request", "Requested a demo", 1.6),
    ("eng:pricing_interest:hits", "eng:pricing_interest", "Looked at pricing", 0.7),
    ("fit:exec_title", "fit:exec_title", "Executive title", 0.9),
    ("webmail", "webmail", "Free webmail address", -1.1),
    ("activity:week", "activity", "Active this week", 0.6),
)

PROBABILITY_EDGES = [0.0, 0.05, 0.1, 0.2, 0.4, 1.0]


def artefact(
    *,
    base_model: str = "default",
    base_model_version: str = "2026.12.1",
    probability_shares: list[float] | None = None,
    feature_shares: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """The artefact as a JSON-ready dict; the drift reference's shares can be replaced."""
    default_shares = {name: [0.9, 0.1] for name, *_ in FEATURES}
    default_shares |= feature_shares or {}
    return {
        "artefact_version": 1,
        "name": "default-likelihood",
        "version": "test-1",
        "base_model": base_model,
        "base_model_version": base_model_version,
        "feature_set_version": FEATURE_SET_VERSION,
        "trained_at": "2026-11-01T00:00:00Z",
        "training_window": {"since": "2026-05-01", "until": "2026-10-31", "horizon_days": 28,
                            "reference_every_days": 7},
        "target": "sales_accepted within 28 days of the reference date",
        "features": [
            {"name": name, "group": group, "label": label, "transform": "as computed", "mean": 0.0, "scale": 1.0,
             "coefficient": coefficient}
            for name, group, label, coefficient in FEATURES
        ],
        "intercept": -3.0,
        "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
        "report": {},
        "drift_reference": {
            "features": {name: {"edges": [0.0, 0.5, 10.0], "shares": default_shares[name]} for name, *_ in FEATURES},
            "probability": {"edges": PROBABILITY_EDGES, "shares": probability_shares or [0.5, 0.2, 0.15, 0.1, 0.05]},
        },
    }  # fmt: skip


def write_artefact(path: Path, **changes: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artefact(**changes)), encoding="utf-8")
    return path
