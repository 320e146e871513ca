"""The predictive artefact as NamedTuples: what `leadscore train` writes and the report and drift readers use.

Importable from `leadscore.predictive.artefact` too (where the file format is described). Kept apart so
that the scorer, which builds its weights from the checked JSON (`artefact.checked_artefact`), never
creates these classes: a NamedTuple class costs about a quarter of a millisecond at cold start.
"""

import json
from typing import Any, NamedTuple

from leadscore.predictive.artefact import ARTEFACT_VERSION, Checked


class ArtefactFeature(NamedTuple):
    name: str
    group: str
    label: str
    transform: str
    mean: float
    scale: float
    coefficient: float


class Calibration(NamedTuple):
    method: str = "platt"
    a: float = 1.0
    b: float = 0.0


class Histogram(NamedTuple):
    edges: tuple[float, ...]
    shares: tuple[float, ...]


class DriftReference(NamedTuple):
    features: dict[str, Histogram]
    probability: Histogram


class Artefact(NamedTuple):
    name: str
    version: str
    base_model: str
    base_model_version: str
    feature_set_version: int
    trained_at: str
    training_window: dict[str, Any]
    target: str
    features: tuple[ArtefactFeature, ...]
    intercept: float
    calibration: Calibration
    report: dict[str, Any]
    drift_reference: DriftReference
    artefact_version: int = ARTEFACT_VERSION

    def to_json(self) -> str:
        """The artefact file's text (ValueError on a non-finite number: JSON has none)."""
        data = self._asdict()
        data = {"artefact_version": data.pop("artefact_version"), **data}
        data["features"] = [feature._asdict() for feature in self.features]
        data["calibration"] = self.calibration._asdict()
        drift = self.drift_reference
        data["drift_reference"] = {
            "features": {name: histogram._asdict() for name, histogram in drift.features.items()},
            "probability": drift.probability._asdict(),
        }
        return json.dumps(data, indent=1, allow_nan=False) + "\n"


def artefact_of(checked: Checked) -> Artefact:
    """The Artefact of a checked artefact's plain data (`artefact.checked_artefact`)."""
    drift = checked["drift_reference"]
    return Artefact(
        **{
            **checked,
            "features": tuple(ArtefactFeature._make(feature) for feature in checked["features"]),
            "calibration": Calibration._make(checked["calibration"]),
            "drift_reference": DriftReference(
                features={name: Histogram._make(histogram) for name, histogram in drift["features"].items()},
                probability=Histogram._make(drift["probability"]),
            ),
        }
    )
