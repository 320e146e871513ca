"""The serving plan (predictive/plan.py) against the reference: predict_features(lead_features(state)).

`lead_features` is the definition training uses; the plan computes the same logit and factors in one pass
over the state. These tests compare the two on random states and random artefacts: any difference in a
value, a condition, a group's order or a label fails them.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState
from leadscore.predictive import features as features_module
from leadscore.predictive.artefact import Artefact, ArtefactFeature, Calibration, DriftReference, Histogram
from leadscore.predictive.features import FEATURE_SET_VERSION, feature_group, group_description, lead_features
from leadscore.predictive.inference import Predictor
from leadscore.predictive.plan import plannable, plannable_names
from tests.unit.builders import DAY, MONDAY, a_form_event, a_page_view, an_email_event, score_all, the_default_model

MODEL = the_default_model()
ENGAGEMENT = sorted(MODEL.engagement_ids)
FIT = [rule.id for rule in MODEL.fit_rules]
CATEGORIES = ("GB", "gb ", "Healthcare", "Software", "x" * 41)
ATTRIBUTE_FEATURES = tuple(
    sorted({f"attr:{field}={value.strip().casefold()}" for field in ("country", "industry") for value in CATEGORIES})
)
NAMES = tuple(sorted(plannable_names(MODEL)[0])) + ATTRIBUTE_FEATURES
# A few coefficients, so that factors tie often (ties keep the order the groups came in, in both paths).
COEFFICIENTS = (0.0, 0.0, -1.25, -0.5, 0.25, 0.5, 1.0, 0.7071)
TYING = (0.0, -0.5, 0.5, 1.0)  # with scales 1 and 2: weights -0.5, -0.25, 0.25, 0.5, 1.0 tie across groups


def a_code(day: date) -> int:
    return (day.year - 2000) * 10_000 + day.month * 100 + day.day


decimals = st.decimals(min_value=-60, max_value=250, places=2, allow_nan=False, allow_infinity=False)
moments = st.one_of(st.none(), st.integers(MONDAY - 900 * DAY, MONDAY + 2 * DAY))


@st.composite
def states(draw: st.DrawFn) -> ScoreState:
    rule_ids = st.sampled_from([*ENGAGEMENT, *(f"{rule}:automated" for rule in ENGAGEMENT), "not_a_rule"])
    return ScoreState(
        lead_id="lead000001",
        model_id=MODEL.id,
        model_version=MODEL.version,
        fit=draw(st.one_of(st.just(Decimal(0)), decimals)),
        engagement=draw(st.one_of(st.just(Decimal(0)), decimals)),
        hits=draw(st.dictionaries(rule_ids, st.integers(-1, 800), max_size=12)),
        points=draw(
            st.dictionaries(st.sampled_from([*ENGAGEMENT, "inactivity"]), st.one_of(st.just(Decimal(0)), decimals))
        )
        | draw(st.dictionaries(st.sampled_from(FIT), st.sampled_from([Decimal(0), Decimal(10), Decimal(-5)]))),
        rule_days=draw(
            st.dictionaries(
                st.sampled_from(ENGAGEMENT),
                st.one_of(
                    st.dates(date(2024, 1, 1), date(2026, 12, 31)).map(a_code), st.sampled_from([0, 261399, 991231])
                ),
            )
        ),
        attributes=draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "company_size": st.one_of(
                        st.sampled_from(["5", "51-200", "5000+", "lots", "1,000-4,999"]),
                        st.decimals(0, 20_000, places=0),
                    ),
                    "job_title": st.sampled_from(["", "VP Sales", "Intern"]),
                    "email_domain": st.sampled_from(["gmail.com", "GMail.com", "acme.io"]),
                    "country": st.sampled_from(CATEGORIES),
                    "industry": st.sampled_from(CATEGORIES),
                },
            )
        ),
        last_activity_at=draw(moments),
        recycled_at=draw(moments),
        created_at=draw(moments),
        alerts_sent=draw(st.integers(0, 2)),
        suppressed=draw(st.booleans()),
    )


@st.composite
def artefacts(draw: st.DrawFn) -> Artefact:
    chosen = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=60, unique=True))
    features = tuple(
        ArtefactFeature(
            name=name,
            group=feature_group(name),
            label=group_description(feature_group(name), dict(MODEL.descriptions)),
            transform="as computed",
            mean=draw(st.sampled_from((0.0, 0.25, 1.5))),
            scale=draw(st.sampled_from((1.0, 2.0))),
            coefficient=draw(st.sampled_from(TYING)),
        )
        for name in chosen
    )
    return Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="2026-12-01T00:00:00Z", training_window={},
        target="test", features=features, intercept=draw(st.floats(-4, 1)),
        calibration=Calibration("platt", draw(st.floats(0.2, 2.0)), draw(st.floats(-1, 1))), report={},
        drift_reference=DriftReference({}, Histogram((0.0, 1.0), (1.0,))),
    )  # fmt: skip


def assert_same_prediction(predictor: Predictor, state: ScoreState, model: CompiledModel, at: int) -> None:
    reference = Predictor(predictor.artefact).predict_features(lead_features(state, model, at))
    served = predictor.predict(state, model, at)
    assert served.logit == pytest.approx(reference.logit, abs=1e-12, rel=0)
    assert served.probability == pytest.approx(reference.probability, abs=1e-12, rel=0)
    assert served.top(3) == reference.top(3)  # the stored factors: groups, labels, contributions, order
    assert served.factors == reference.factors


@settings(max_examples=300, deadline=None)
@given(state=states(), artefact=artefacts(), at=st.integers(MONDAY - DAY, MONDAY + 800 * DAY))
def test_the_plan_predicts_what_the_reference_features_predict(state: ScoreState, artefact: Artefact, at: int) -> None:
    # Given any lead state under the default model and any artefact over the features it computes
    predictor = Predictor(artefact)
    assert plannable({f.name: f.group for f in artefact.features if f.coefficient}, MODEL)

    # When / Then the planned prediction is the reference one: logit, probability, every factor and label
    assert_same_prediction(predictor, state, MODEL, at)


def test_scored_leads_are_predicted_as_the_reference_predicts_them_day_after_day() -> None:
    # Given leads scored from real events (forms, page views, machine email opens) and an artefact over
    # every feature they have, with weights that tie
    leads = [
        [
            a_form_event(form_id="whitepaper-download", title="VP Engineering", size="51-200", at=MONDAY - 40 * DAY),
            a_page_view("/pricing", at=MONDAY - 3 * DAY),
            a_form_event(form_id="demo-request", at=MONDAY - 2 * DAY),
            an_email_event("email_opened", at=MONDAY - DAY, automated=True),
        ],
        [a_page_view("/docs", at=MONDAY - 100 * DAY), an_email_event("email_clicked", at=MONDAY - 90 * DAY)],
    ]
    states = [score_all(events, MODEL)[0] for events in leads]
    names = sorted({name for state in states for name in lead_features(state, MODEL, MONDAY)})
    artefact = Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="2026-12-01T00:00:00Z", training_window={},
        target="test", intercept=-2.0, calibration=Calibration("platt", 0.9, -0.1), report={},
        drift_reference=DriftReference({}, Histogram((0.0, 1.0), (1.0,))),
        features=tuple(
            ArtefactFeature(name, feature_group(name), group_description(feature_group(name)), "t", 0.1, 0.5,
                            COEFFICIENTS[2 + index % 6])
            for index, name in enumerate(names)
        ),
    )  # fmt: skip
    predictor = Predictor(artefact)

    # When they are predicted today and on later days (recency fades), by the plan and by the reference
    # Then both agree every time
    for state in states:
        for days in (0, 1, 29, 400, 1000):
            assert_same_prediction(predictor, state, MODEL, MONDAY + days * DAY)


def test_tied_factors_come_in_the_reference_order() -> None:
    # Given a lead holding every fit rule and engaging with four rules equally, and an artefact weighing every
    # fit rule and every engagement rule's hits alike (ties everywhere)
    state = ScoreState(
        lead_id="lead000001", model_id=MODEL.id, model_version=MODEL.version,
        points={rule: Decimal(10) for rule in reversed(FIT)},
        hits=dict.fromkeys(("webinar", "docs", "case_study", "demo_page"), 2),
    )  # fmt: skip
    names = [f"fit:{rule}" for rule in FIT] + [f"eng:{rule}:hits" for rule in ENGAGEMENT]
    artefact = Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="t", training_window={}, target="t", intercept=-1.0,
        calibration=Calibration(), report={}, drift_reference=DriftReference({}, Histogram((0.0, 1.0), (1.0,))),
        features=tuple(ArtefactFeature(n, feature_group(n), n, "t", 0.0, 1.0, 0.5) for n in reversed(names)),
    )  # fmt: skip
    predictor = Predictor(artefact)

    # When it is predicted / Then the tied factors come in the reference's order (fit rules as the model lists
    # them, after the engagement rules in the order the lead hit them)
    assert_same_prediction(predictor, state, MODEL, MONDAY)
    assert [f.feature for f in predictor.predict(state, MODEL, MONDAY).factors] == [
        "eng:webinar", "eng:docs", "eng:case_study", "eng:demo_page", *(f"fit:{rule}" for rule in FIT)
    ]  # fmt: skip


def test_the_plan_does_not_build_the_feature_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a predictor whose artefact the plan computes, and lead_features counting its calls
    state, _ = score_all([a_form_event(form_id="demo-request", at=MONDAY - DAY)], MODEL)
    names = sorted(lead_features(state, MODEL, MONDAY))
    artefact = Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="t", training_window={}, target="t", intercept=-1.0,
        calibration=Calibration(), report={}, drift_reference=DriftReference({}, Histogram((0.0, 1.0), (1.0,))),
        features=tuple(ArtefactFeature(n, feature_group(n), n, "t", 0.0, 1.0, 0.5) for n in names),
    )  # fmt: skip
    calls: list[int] = []
    reference = features_module.lead_features

    def counted(*args: object) -> dict[str, float]:
        calls.append(1)
        return reference(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("leadscore.predictive.inference.lead_features", counted)

    # When it predicts the lead 100 times and words its top factors
    for _ in range(100):
        Predictor.predict(Predictor(artefact), state, MODEL, MONDAY).top(3)

    # Then the feature dict was never built
    assert calls == []


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("eng:demo_request:velocity", "eng:demo_request"),  # a feature a later feature set may add
        ("fit:exec_title", "fit"),  # grouped by hand, not as training groups
        ("eng:retired_rule:hits", "eng:retired_rule"),  # a rule the model no longer has
    ],
)
def test_an_artefact_the_plan_cannot_compute_is_served_by_the_reference(
    name: str, group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an artefact with a feature the plan does not compute (or groups otherwise)
    state, _ = score_all([a_form_event(form_id="demo-request", title="CEO", at=MONDAY - DAY)], MODEL)
    features = (
        ArtefactFeature("eng:demo_request:hits", "eng:demo_request", "Requested a demo", "t", 0.0, 1.0, 1.2),
        ArtefactFeature(name, group, "label", "t", 0.0, 1.0, 0.8),
    )
    artefact = Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="t", training_window={}, target="t", intercept=-1.0,
        calibration=Calibration(), report={}, drift_reference=DriftReference({}, Histogram((0.0, 1.0), (1.0,))),
        features=features,
    )  # fmt: skip

    # When / Then it is not plannable, and predict is still exactly the reference
    assert not plannable({f.name: f.group for f in features}, MODEL)
    assert_same_prediction(Predictor(artefact), state, MODEL, MONDAY)


def test_another_feature_set_is_served_by_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given features.py computing another feature set than the plan was written for
    monkeypatch.setattr(features_module, "FEATURE_SET_VERSION", FEATURE_SET_VERSION + 1)

    # When / Then no plan is built
    assert not plannable({"eng:demo_request:hits": "eng:demo_request"}, MODEL)


def test_importing_the_predictive_modules_defers_what_the_scorer_does_not_need() -> None:
    # Given a fresh interpreter
    deferred = ("json", "pathlib", "leadscore.core.bands", "leadscore.predictive.artefact_model", "pydantic")
    probe = (
        "import sys; before = set(sys.modules); "
        "import leadscore.predictive.inference, leadscore.predictive.artefact, leadscore.predictive.plan; "
        f"print(','.join(sorted(name for name in {deferred!r} if name in set(sys.modules) - before)))"
    )
    layer = Path(__file__).resolve().parents[2] / "layers" / "leadscore"

    # When it imports the modules the scorer serves with
    loaded = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(layer)}
    ).stdout.strip()

    # Then the artefact's NamedTuples, the JSON and path modules and the size parser's regexes wait for first use
    assert loaded == ""


ONE_BIN = Histogram((0.0, 1.0), (1.0,))


def test_the_artefact_read_from_json_is_built_when_read() -> None:
    # Given an artefact's JSON
    state, _ = score_all([a_form_event(form_id="demo-request", at=MONDAY - DAY)], MODEL)
    artefact = Artefact(
        name="plan-test", version="1", base_model=MODEL.id, base_model_version=MODEL.version,
        feature_set_version=FEATURE_SET_VERSION, trained_at="t", training_window={"since": "s"}, target="t",
        intercept=-1.0, calibration=Calibration("platt", 0.8, 0.1), report={"auc": 0.8},
        drift_reference=DriftReference({"eng:demo_request:hits": ONE_BIN}, ONE_BIN),
        features=(ArtefactFeature("eng:demo_request:hits", "eng:demo_request", "A demo", "t", 0.2, 0.5, 1.1),),
    )  # fmt: skip

    # When a predictor is loaded from it / Then it predicts as one built from the artefact, and its artefact
    # (built on first read) is the same artefact
    loaded = Predictor.from_json(artefact.to_json())
    assert loaded.predict(state, MODEL, MONDAY) == Predictor(artefact).predict(state, MODEL, MONDAY)
    assert loaded.artefact == artefact
    assert (loaded.name, loaded.version, loaded.base_model, loaded.intercept) == (
        "plan-test", "1", MODEL.id, Predictor(artefact).intercept,
    )  # fmt: skip
