"""Small, hand-written predictive artefacts (the JSON `leadscore train` writes) for the serving tests.

The numbers are chosen to be read, not learned: no standardisation (mean 0, scale 1) and no calibration
(Platt a=1, b=0), so the logit is the intercept plus coefficient x feature and a test can reason about
where the probability crosses a stage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# For tests.unit.builders.a_model ("test"): a demo request and an executive title make a lead likely.
TEST_FEATURES: dict[str, tuple[str, str, float]] = {  # name -> (group, label, coefficient)
    "eng:demo_request:hits": ("eng:demo_request", "Requested a demo", 3.0),
    "eng:pricing_page:hits": ("eng:pricing_page", "Viewed pricing", 1.0),
    "eng:email_open:hits": ("eng:email_open", "Opened emails", 0.5),
    "fit:exec_title": ("fit:exec_title", "Executive title", 1.0),
    "webmail": ("webmail", "Free webmail address", -1.5),
}
TEST_INTERCEPT = -3.0


def an_artefact_document(
    *,
    base_model: str = "test",
    version: str = "20261201-test",
    features: dict[str, tuple[str, str, float]] | None = None,
    intercept: float = TEST_INTERCEPT,
) -> dict[str, Any]:
    chosen = TEST_FEATURES if features is None else features
    return {
        "artefact_version": 1,
        "name": "test-likelihood",
        "version": version,
        "base_model": base_model,
        "base_model_version": "1",
        "feature_set_version": 1,
        "trained_at": "2026-12-01T00:00:00Z",
        "training_window": {"since": "2026-09-01", "until": "2026-11-30", "horizon_days": 28},
        "target": "sales_accepted within 28 days of the reference date",
        "features": [
            {
                "name": name,
                "group": group,
                "label": label,
                "transform": "hand-written",
                "mean": 0.0,
                "scale": 1.0,
                "coefficient": coefficient,
            }
            for name, (group, label, coefficient) in chosen.items()
        ],
        "intercept": intercept,
        "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
        "report": {},
        "drift_reference": {"features": {}, "probability": {"edges": [0.0, 0.5, 1.0], "shares": [0.5, 0.5]}},
    }


def write_artefact(models_dir: Path, name: str = "test-likelihood.json", **overrides: Any) -> Path:
    """The artefact under `<models_dir>/predictive/<name>`, as the loaders look for it."""
    directory = models_dir / "predictive"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(an_artefact_document(**overrides)), encoding="utf-8")
    return path
