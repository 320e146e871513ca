"""The versioned predictive-model artefact: one JSON file beside the scoring models (`predictive/<name>.json`).

Parsed with the standard library into NamedTuples, not pydantic models or dataclasses: the scorer loads it
at cold start and `leadscore.predictive` must stay cheap to import (building a pydantic model or a dataclass
costs about a millisecond each; a NamedTuple a third of that). Every problem is an `ArtefactError` (a
ValueError) naming the field.

Shape (artefact_version 1)::

    {"artefact_version": 1, "name": "default-likelihood", "version": "20261201-3f2a9c1e",
     "base_model": "default", "base_model_version": "2026.12.1", "feature_set_version": 1,
     "trained_at": "2026-12-01T23:00:00Z",
     "training_window": {"since": "...", "until": "...", "horizon_days": 28, "reference_every_days": 7},
     "target": "sales_accepted within 28 days of the reference date",
     "features": [{"name": "eng:demo_request:hits", "group": "eng:demo_request", "label": "Requested a demo",
                   "transform": "log1p(matches)", "mean": 0.01, "scale": 0.1, "coefficient": 0.8}, ...],
     "intercept": -2.1,                       # on the standardised features, before calibration
     "calibration": {"method": "platt", "a": 1.0, "b": 0.0},   # p = sigmoid(a * raw logit + b)
     "report": {...},                         # the training report (AUC, ECE, lift, top features, counts)
     "drift_reference": {"features": {name: {"edges": [...], "shares": [...]}},
                         "probability": {"edges": [...], "shares": [...]}}}

A feature's standardised value is (x - mean) / scale, x its value from `features.lead_features` (0 when
absent). The served logit folds standardisation and calibration into one weight per feature, so an absent
feature contributes nothing and the factors sum with the intercept to the logit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from leadscore.predictive.inference import Predictor

ARTEFACT_VERSION = 1
PREDICTIVE_DIR = "predictive"  # beside the scoring models: scoring/predictive/, /opt/predictive/ on Lambda


class ArtefactError(ValueError):
    """The artefact file is not a usable predictive model (the message names what is wrong)."""


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


# ---- Parsing ----------------------------------------------------------------------------------------------


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    if name not in data:
        raise ArtefactError(f"artefact: missing field {where}{name}")
    value = data[name]
    if kind is float or kind == (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ArtefactError(f"artefact: {where}{name} must be a finite number, got {value!r}")
        return float(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ArtefactError(f"artefact: {where}{name} must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise ArtefactError(f"artefact: {where}{name} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    if kind is str and not value:
        raise ArtefactError(f"artefact: {where}{name} must not be empty")
    return value


def _histogram(data: object, where: str) -> Histogram:
    if not isinstance(data, dict):
        raise ArtefactError(f"artefact: {where} must be an object with edges and shares")
    edges = _field(data, "edges", list, where + ".")
    shares = _field(data, "shares", list, where + ".")
    numbers = [*edges, *shares]
    if any(isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) for x in numbers):
        raise ArtefactError(f"artefact: {where} edges and shares must be finite numbers")
    if len(edges) != len(shares) + 1 or not shares:
        raise ArtefactError(
            f"artefact: {where} needs one more edge than shares ({len(edges)} edges, {len(shares)} shares)"
        )
    return Histogram(tuple(float(x) for x in edges), tuple(float(x) for x in shares))


def _drift(data: object) -> DriftReference:
    if not isinstance(data, dict):
        raise ArtefactError("artefact: drift_reference must be an object")
    features = _field(data, "features", dict, "drift_reference.")
    return DriftReference(
        features={name: _histogram(h, f"drift_reference.features.{name}") for name, h in features.items()},
        probability=_histogram(_field(data, "probability", dict, "drift_reference."), "drift_reference.probability"),
    )


def _feature(data: object, index: int) -> ArtefactFeature:
    where = f"features[{index}]."
    if not isinstance(data, dict):
        raise ArtefactError(f"artefact: features[{index}] must be an object")
    scale = _field(data, "scale", float, where)
    if scale <= 0:
        raise ArtefactError(f"artefact: {where}scale must be positive, got {scale}")
    return ArtefactFeature(
        name=_field(data, "name", str, where),
        group=_field(data, "group", str, where),
        label=_field(data, "label", str, where),
        transform=_field(data, "transform", str, where),
        mean=_field(data, "mean", float, where),
        scale=scale,
        coefficient=_field(data, "coefficient", float, where),
    )


def parse_artefact(text: str | bytes) -> Artefact:
    """The artefact in `text`; ArtefactError naming the first problem (not JSON, a field, a version)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"artefact: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ArtefactError("artefact: must be a JSON object")
    version = _field(data, "artefact_version", int)
    if version != ARTEFACT_VERSION:
        raise ArtefactError(
            f"artefact: artefact_version {version} is not supported (this code reads {ARTEFACT_VERSION})"
        )
    from leadscore.predictive.features import FEATURE_SET_VERSION  # noqa: PLC0415 - a cycle-free late import

    feature_set = _field(data, "feature_set_version", int)
    if feature_set != FEATURE_SET_VERSION:
        raise ArtefactError(
            f"artefact: feature_set_version {feature_set} is not the one this code computes ({FEATURE_SET_VERSION}); "
            "retrain with `leadscore train`"
        )
    raw_features = _field(data, "features", list)
    features = tuple(_feature(item, index) for index, item in enumerate(raw_features))
    names = [feature.name for feature in features]
    if len(set(names)) != len(names):
        raise ArtefactError("artefact: a feature is listed twice")
    calibration = _field(data, "calibration", dict)
    method = _field(calibration, "method", str, "calibration.")
    if method not in {"platt", "none"}:
        raise ArtefactError(f"artefact: calibration.method {method!r} is not platt or none")
    return Artefact(
        artefact_version=version,
        name=_field(data, "name", str),
        version=_field(data, "version", str),
        base_model=_field(data, "base_model", str),
        base_model_version=_field(data, "base_model_version", str),
        feature_set_version=feature_set,
        trained_at=_field(data, "trained_at", str),
        training_window=_field(data, "training_window", dict),
        target=_field(data, "target", str),
        features=features,
        intercept=_field(data, "intercept", float),
        calibration=Calibration(
            method=method,
            a=_field(calibration, "a", float, "calibration."),
            b=_field(calibration, "b", float, "calibration."),
        ),
        report=_field(data, "report", dict),
        drift_reference=_drift(_field(data, "drift_reference", dict)),
    )


def load_predictor(path: str | Path) -> Predictor:
    """The Predictor in the artefact file at `path` (ArtefactError if unreadable or invalid)."""
    from leadscore.predictive.inference import Predictor  # noqa: PLC0415 - inference imports this module

    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ArtefactError(f"artefact: cannot read {path}: {exc.strerror or exc}") from None
    return Predictor.from_json(text)
