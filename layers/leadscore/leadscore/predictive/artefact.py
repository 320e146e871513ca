"""The versioned predictive-model artefact: one JSON file beside the scoring models (`predictive/<name>.json`).

Parsed with the standard library (no pydantic: the scorer loads it at cold start and `leadscore.predictive`
must stay cheap to import). Every problem is an `ArtefactError` (a ValueError) naming the field. The
artefact as a whole is a set of NamedTuples (`artefact_model.Artefact`, importable from here too), which
training writes and the report and drift readers use; the scorer never needs them, so they are defined
only when first used (a NamedTuple class costs a quarter of a millisecond to create, five of them more
than the rest of the module): `Predictor.from_json` builds its weights from the checked JSON directly.

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

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from leadscore.predictive.artefact_model import Artefact, ArtefactFeature, Calibration, DriftReference, Histogram
    from leadscore.predictive.inference import Predictor

__all__ = [
    "ARTEFACT_VERSION", "PREDICTIVE_DIR", "Artefact", "ArtefactError", "ArtefactFeature", "Calibration", "Checked",
    "DriftReference", "Histogram", "checked_artefact", "load_predictor", "parse_artefact",
]  # fmt: skip

ARTEFACT_VERSION = 1
PREDICTIVE_DIR = "predictive"  # beside the scoring models: scoring/predictive/, /opt/predictive/ on Lambda
_MODEL_TYPES = frozenset({"Artefact", "ArtefactFeature", "Calibration", "DriftReference", "Histogram"})


class ArtefactError(ValueError):
    """The artefact file is not a usable predictive model (the message names what is wrong)."""


def __getattr__(name: str) -> Any:
    """`Artefact` and its parts, defined on first use (artefact_model.py)."""
    if name in _MODEL_TYPES:
        from leadscore.predictive import artefact_model  # noqa: PLC0415 - defined on first use, see above

        return getattr(artefact_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- Parsing ----------------------------------------------------------------------------------------------
# A checked artefact in plain data: the JSON object with `features` as (name, group, label, transform, mean,
# scale, coefficient) tuples, `calibration` as (method, a, b), and each drift histogram as (edges, shares).
Checked = dict[str, Any]


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


def _histogram(data: object, where: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
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
    return tuple(float(x) for x in edges), tuple(float(x) for x in shares)


def _drift(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ArtefactError("artefact: drift_reference must be an object")
    features = _field(data, "features", dict, "drift_reference.")
    return {
        "features": {name: _histogram(h, f"drift_reference.features.{name}") for name, h in features.items()},
        "probability": _histogram(_field(data, "probability", dict, "drift_reference."), "drift_reference.probability"),
    }


def _feature(data: object, index: int) -> tuple[str, str, str, str, float, float, float]:
    where = f"features[{index}]."
    if not isinstance(data, dict):
        raise ArtefactError(f"artefact: features[{index}] must be an object")
    scale = _field(data, "scale", float, where)
    if scale <= 0:
        raise ArtefactError(f"artefact: {where}scale must be positive, got {scale}")
    return (
        _field(data, "name", str, where),
        _field(data, "group", str, where),
        _field(data, "label", str, where),
        _field(data, "transform", str, where),
        _field(data, "mean", float, where),
        scale,
        _field(data, "coefficient", float, where),
    )


def checked_artefact(text: str | bytes) -> Checked:
    """The artefact in `text`, checked, as plain data (see `Checked`); ArtefactError naming the first problem
    (not JSON, a field, a version)."""
    import json  # noqa: PLC0415 - at load, not at import (the scorer has it already; other readers may not)

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
    names = [feature[0] for feature in features]
    if len(set(names)) != len(names):
        raise ArtefactError("artefact: a feature is listed twice")
    calibration = _field(data, "calibration", dict)
    method = _field(calibration, "method", str, "calibration.")
    if method not in {"platt", "none"}:
        raise ArtefactError(f"artefact: calibration.method {method!r} is not platt or none")
    return {
        "artefact_version": version,
        "name": _field(data, "name", str),
        "version": _field(data, "version", str),
        "base_model": _field(data, "base_model", str),
        "base_model_version": _field(data, "base_model_version", str),
        "feature_set_version": feature_set,
        "trained_at": _field(data, "trained_at", str),
        "training_window": _field(data, "training_window", dict),
        "target": _field(data, "target", str),
        "features": features,
        "intercept": _field(data, "intercept", float),
        "calibration": (
            method,
            _field(calibration, "a", float, "calibration."),
            _field(calibration, "b", float, "calibration."),
        ),
        "report": _field(data, "report", dict),
        "drift_reference": _drift(_field(data, "drift_reference", dict)),
    }


def parse_artefact(text: str | bytes) -> "Artefact":
    """The artefact in `text`; ArtefactError naming the first problem (not JSON, a field, a version)."""
    from leadscore.predictive.artefact_model import artefact_of  # noqa: PLC0415 - defined on first use

    return artefact_of(checked_artefact(text))


def load_predictor(path: "str | Path") -> "Predictor":
    """The Predictor in the artefact file at `path` (ArtefactError if unreadable or invalid)."""
    from leadscore.predictive.inference import Predictor  # noqa: PLC0415 - inference imports this module

    try:
        with open(path, "rb") as file:  # not pathlib: the scorer's cold start need not import it for this
            text = file.read()
    except OSError as exc:
        raise ArtefactError(f"artefact: cannot read {path}: {exc.strerror or exc}") from None
    return Predictor.from_json(text)
