"""Contract C3: lead features, the artefact file and the pure-Python predictor (no scikit-learn here)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState
from leadscore.predictive.artefact import (
    Artefact,
    ArtefactError,
    ArtefactFeature,
    Calibration,
    DriftReference,
    Histogram,
    load_predictor,
    parse_artefact,
)
from leadscore.predictive.features import (
    FEATURE_SET_VERSION,
    feature_group,
    group_description,
    lead_features,
    size_band,
)
from leadscore.predictive.inference import Predictor, sigmoid
from tests.unit.builders import DAY, MONDAY, a_form_event, a_page_view, an_email_event, score_all, the_default_model

FEATURES = (
    "eng:demo_request:points",
    "eng:demo_request:hits",
    "eng:demo_request:recency",
    "eng:pricing_interest:hits",
    "eng:pricing_interest:recency",
    "auto:email_open:hits",
    "fit:exec_title",
    "fit:free_webmail",
    "size:50-199",
    "activity:week",
    "activity:quarter",
    "webmail",
)


def an_artefact(coefficients: tuple[float, ...] | None = None, **overrides: Any) -> Artefact:
    coefficients = coefficients or tuple(0.3 * (index % 5) - 0.5 for index in range(len(FEATURES)))
    features = tuple(
        ArtefactFeature(
            name=name,
            group=feature_group(name),
            label=f"label of {feature_group(name)}",
            transform="test",
            mean=0.1 * index,
            scale=0.5 + index / 10,
            coefficient=coefficient,
        )
        for index, (name, coefficient) in enumerate(zip(FEATURES, coefficients, strict=True))
    )
    artefact = Artefact(
        name="default-likelihood",
        version="20261201-test",
        base_model="default",
        base_model_version="2026.12.1",
        feature_set_version=FEATURE_SET_VERSION,
        trained_at="2026-12-01T00:00:00Z",
        training_window={"since": "2026-05-04", "until": "2026-11-01", "horizon_days": 28},
        target="sales_accepted within 28 days",
        features=features,
        intercept=-1.7,
        calibration=Calibration("platt", 0.9, -0.2),
        report={"auc": {"predictive": 0.8}},
        drift_reference=DriftReference(
            features={"activity:week": Histogram((0.0, 0.5, 1.0), (0.7, 0.3))},
            probability=Histogram((0.0, 0.1, 1.0), (0.8, 0.2)),
        ),
    )
    return artefact._replace(**overrides)


def a_busy_lead_state() -> tuple[ScoreState, CompiledModel]:
    model = the_default_model()
    events = [
        a_form_event(form_id="whitepaper-download", title="VP Engineering", size="51-200", at=MONDAY - 40 * DAY),
        a_page_view("/pricing", at=MONDAY - 3 * DAY),
        a_page_view("/pricing", at=MONDAY - 2 * DAY),
        a_page_view("/pricing", at=MONDAY - 2 * DAY + 60),
        a_form_event(form_id="demo-request", at=MONDAY - 2 * DAY + 120),
        an_email_event("email_opened", at=MONDAY - DAY, automated=True),
    ]
    state, _ = score_all(events, model)
    return state, model


# ---- Features ---------------------------------------------------------------------------------------------


def test_features_read_rules_recency_automation_and_fit_from_the_score_item() -> None:
    # Given a VP at a 51-200 company who read pricing three times, asked for a demo 2 days ago, and whose
    # mail client opened an email by machine
    state, model = a_busy_lead_state()

    # When its features are computed today
    features = lead_features(state, model, MONDAY)

    # Then each rule has its count and recency, the machine open is a feature of its own, fit is there
    assert features["eng:pricing_interest:hits"] == pytest.approx(math.log1p(3))
    assert features["eng:demo_request:recency"] == pytest.approx(math.exp(-2 / 30))
    assert features["eng:whitepaper:recency"] == pytest.approx(math.exp(-40 / 30))
    assert features["auto:email_open:hits"] == pytest.approx(math.log1p(1))
    assert "eng:email_open:hits" not in features
    assert features["fit:exec_title"] == 1.0
    assert features["size:50-199"] == 1.0
    assert features["activity:week"] == pytest.approx(math.exp(-2 / 7))
    assert features["breadth"] == pytest.approx(math.log1p(3))
    assert all(value != 0 for value in features.values())  # sparse: absent means 0


def test_recency_features_fall_as_time_passes_without_activity() -> None:
    # Given a lead's state
    state, model = a_busy_lead_state()

    # When features are computed now and 60 days later (nothing happened since)
    now, later = lead_features(state, model, MONDAY), lead_features(state, model, MONDAY + 60 * DAY)

    # Then the counts stay and the recencies fall
    assert later["eng:pricing_interest:hits"] == now["eng:pricing_interest:hits"]
    assert later["eng:demo_request:recency"] < now["eng:demo_request:recency"]
    assert later["activity:quarter"] < now["activity:quarter"]


@pytest.mark.parametrize(
    ("answer", "band"),
    [("5", "size:1-9"), ("51-200", "size:50-199"), ("5000+", "size:5000+"), (Decimal(1200), "size:1000-4999"),
     ("lots", "size:unknown"), (None, "size:unknown")],
)  # fmt: skip
def test_company_size_answers_fall_in_one_band(answer: str | Decimal | None, band: str) -> None:
    # Given / When / Then a size answer has exactly one band
    assert size_band(answer) == band


# ---- Artefact ---------------------------------------------------------------------------------------------


def test_artefact_round_trips_through_its_json(tmp_path: Path) -> None:
    # Given an artefact written to a file
    artefact = an_artefact()
    path = tmp_path / "default-likelihood.json"
    path.write_text(artefact.to_json(), encoding="utf-8")

    # When it is read back
    loaded = load_predictor(path)

    # Then it is the same artefact, field for field
    assert loaded.artefact == artefact
    assert parse_artefact(artefact.to_json()) == artefact
    assert (loaded.name, loaded.version, loaded.base_model) == ("default-likelihood", "20261201-test", "default")


def _broken(change: object) -> str:
    data = json.loads(an_artefact().to_json())
    change(data)  # type: ignore[operator]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        (_broken(lambda d: d.pop("intercept")), "missing field intercept"),
        (_broken(lambda d: d.update(artefact_version=2)), "artefact_version 2"),
        (_broken(lambda d: d.update(feature_set_version=FEATURE_SET_VERSION + 1)), "feature_set_version"),
        (_broken(lambda d: d["features"][0].update(scale=0)), "features[0].scale"),
        (_broken(lambda d: d["features"][1].update(coefficient="big")), "features[1].coefficient"),
        (_broken(lambda d: d["features"].append(d["features"][0])), "listed twice"),
        (_broken(lambda d: d["calibration"].update(method="isotonic")), "calibration.method"),
        (_broken(lambda d: d["drift_reference"]["probability"].update(shares=[1, 2, 3])), "one more edge"),
        (_broken(lambda d: d.update(name="")), "name must not be empty"),
    ],
)
def test_a_bad_artefact_is_refused_naming_the_problem(text: str, named: str) -> None:
    # Given a damaged artefact / When it is parsed / Then ArtefactError (a ValueError) names what is wrong
    with pytest.raises(ArtefactError, match=named.replace("[", r"\[").replace("]", r"\]")):
        Predictor.from_json(text)
    assert issubclass(ArtefactError, ValueError)


def test_a_missing_artefact_file_is_an_artefact_error(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match="cannot read"):
        load_predictor(tmp_path / "absent.json")


def test_nan_is_not_a_coefficient() -> None:
    text = an_artefact().to_json().replace('"intercept": -1.7', '"intercept": NaN')
    with pytest.raises(ArtefactError, match="intercept must be a finite number"):
        parse_artefact(text)


# ---- Inference --------------------------------------------------------------------------------------------


def _reference_logit(artefact: Artefact, features: dict[str, float]) -> float:
    """The textbook computation: standardise every feature, dot with the coefficients, then Platt."""
    raw = artefact.intercept + sum(
        f.coefficient * (features.get(f.name, 0.0) - f.mean) / f.scale for f in artefact.features
    )
    return artefact.calibration.a * raw + artefact.calibration.b


feature_values = st.dictionaries(
    st.sampled_from((*FEATURES, "unknown:feature")),
    st.floats(min_value=-5, max_value=5, allow_nan=False).filter(lambda x: abs(x) > 1e-6),
)


@settings(max_examples=200, deadline=None)
@given(values=feature_values, coefficients=st.lists(st.floats(-3, 3), min_size=len(FEATURES), max_size=len(FEATURES)))
def test_factors_and_intercept_sum_to_the_logit(values: dict[str, float], coefficients: list[float]) -> None:
    # Given any artefact and any features
    artefact = an_artefact(tuple(coefficients))
    predictor = Predictor(artefact)

    # When a prediction is made
    prediction = predictor.predict_features(values)

    # Then the factors sum with the intercept to the logit, which is the textbook logit, and p its sigmoid
    assert prediction.intercept + sum(f.contribution for f in prediction.factors) == pytest.approx(
        prediction.logit, abs=1e-9
    )
    assert prediction.logit == pytest.approx(_reference_logit(artefact, values), abs=1e-9)
    assert prediction.probability == pytest.approx(sigmoid(prediction.logit), abs=1e-12)
    assert all(f.contribution != 0 for f in prediction.factors)
    magnitudes = [abs(f.contribution) for f in prediction.factors]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_predict_is_predict_features_of_the_lead_features() -> None:
    # Given a scored lead and a predictor over the default model
    state, model = a_busy_lead_state()
    predictor = Predictor(an_artefact())

    # When it predicts from the state and from the features of the same state
    direct = predictor.predict(state, model, MONDAY)
    via_features = predictor.predict_features(lead_features(state, model, MONDAY))

    # Then both are the same prediction
    assert direct == via_features
    assert 0 < direct.probability < 1


def test_factor_labels_say_what_the_lead_did_in_sales_words() -> None:
    # Given a predictor whose labels are the rules' descriptions
    state, model = a_busy_lead_state()
    base = an_artefact()
    labelled = base._replace(
        features=tuple(
            f._replace(label=model.descriptions.get(f.group.split(":", 1)[-1], f.label), coefficient=1.0)
            for f in base.features
        ),
    )

    # When it explains the busy lead
    labels = {f.feature: f.label for f in Predictor(labelled).predict(state, model, MONDAY).factors}

    # Then the labels count and date what happened
    assert labels["eng:pricing_interest"] == "Pricing page or pricing calculator: 3 times, last 2 days ago"
    assert labels["eng:demo_request"] == "Requested a demo: 2 days ago"
    assert labels["auto:email_open"].endswith(": once")
    assert labels["fit:exec_title"] == "C-level or VP"


def test_top_returns_the_largest_factors() -> None:
    state, model = a_busy_lead_state()
    prediction = Predictor(an_artefact()).predict(state, model, MONDAY)
    assert prediction.top(2) == prediction.factors[:2]
    assert len(prediction.top()) == min(3, len(prediction.factors))


def test_the_predictive_package_imports_nothing_heavy() -> None:
    # Given a fresh interpreter
    forbidden = ("boto3", "botocore", "aws_lambda_powertools", "numpy", "sklearn", "scipy", "pydantic")
    probe = (
        "import sys; import leadscore.predictive.inference, leadscore.predictive.artefact; "
        f"print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in {forbidden!r})))"
    )
    layer = Path(__file__).resolve().parents[2] / "layers" / "leadscore"

    # When it imports the predictive modules
    loaded = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(layer)}
    ).stdout.strip()

    # Then neither AWS, the scientific stack nor pydantic came with them
    assert loaded == ""


def test_every_feature_family_has_words_that_say_its_value() -> None:
    # Given a predictor that weighs the families whose labels carry a value, and a lead with each set
    families = ("score:fit", "score:engagement", "grid:A1", "attr:industry=healthcare", "history:age", "size:5000+")
    artefact = an_artefact()._replace(
        features=tuple(
            ArtefactFeature(name, feature_group(name), group_description(feature_group(name)), "t", 0.0, 1.0, 0.5)
            for name in families
        )
    )
    features = {"score:fit": 0.35, "score:engagement": 0.4, "grid:A1": 1.0, "attr:industry=healthcare": 1.0,
                "history:age": math.log1p(12), "size:5000+": 1.0}  # fmt: skip

    # When it explains the lead
    labels = {factor.feature: factor.label for factor in Predictor(artefact).predict_features(features).factors}

    # Then each label names the value, not only the family
    assert labels == {
        "score": "Rule score: fit 35, engagement 40",
        "grid": "Fit x engagement grid A1",
        "attr:industry": "Industry: healthcare",
        "history": "Lead known for 12 days",
        "size": "Company size 5000+ employees",
    }
