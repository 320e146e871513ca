"""A quiet lead's probability never rises: the learner's shape constraints (training/monotone.py).

The demo's decay table once showed a lead's probability climbing to 35 % after four quiet weeks: the learned
weight of `eng:demo_request:recency` was negative (a demo request fading made the lead look better). Here a
model trained on a simulated population, as the demo trains it, is served to arbitrary lead states aged by
the decay job, and the probability must never go up.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from leadscore.core.decay import apply_decay
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.stages import DAY_SECONDS
from leadscore.core.state import ScoreState, Stage
from leadscore.models.model_files import load_model_file
from leadscore.predictive.artefact import load_predictor
from leadscore.predictive.inference import Predictor
from leadscore_cli.training.monotone import (
    NON_NEGATIVE,
    NON_POSITIVE,
    Design,
    Shape,
    ShapedLogisticRegression,
    shape_for,
)
from local.evaluation_demo import train_on_population

ROOT = Path(__file__).resolve().parents[2]
AT = int(datetime(2026, 11, 23, 9, tzinfo=UTC).timestamp())
TRAIN_LEADS, TRAIN_SEED = 600, 11  # the demo trains on 1,200 leads of seed 11; half of them (fewer
# conversions: lower minimums) is enough to learn every time-dependent weight here


@pytest.fixture(scope="module")
def model() -> CompiledModel:
    return compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    artefact = tmp_path_factory.mktemp("predictive") / "p.json"
    path = train_on_population(TRAIN_LEADS, TRAIN_SEED, artefact, minimums=(200, 10, 5))
    assert path is not None, "the simulated population should be enough to train on"
    return load_predictor(path)


def code(day: int) -> int:
    """A stored rule day (yymmdd) of an epoch day."""
    moment = datetime.fromtimestamp(day * DAY_SECONDS, UTC)
    return (moment.year - 2000) * 10_000 + moment.month * 100 + moment.day


@st.composite
def lead_states(draw: st.DrawFn, model: CompiledModel) -> ScoreState:
    """Any lead of the default model as the scorer could have stored it at AT: rule points (at most their
    full value, less when decay faded them), hits, last days, inactivity penalty, stage and history."""
    today = AT // DAY_SECONDS
    points: dict[str, Decimal] = {}
    hits: dict[str, int] = {}
    rule_days: dict[str, int] = {}
    rules = draw(st.lists(st.sampled_from(model.model.engagement_rules), max_size=6, unique_by=lambda r: r.id))
    last_days = []
    for rule in rules:
        count = draw(st.integers(1, 12))
        days_ago = draw(st.integers(0, 150))
        share = Decimal(draw(st.integers(1, 100))) / 100
        value = rule.points * count * (share if rule.points > 0 else 1)
        hits[rule.id] = count
        rule_days[rule.id] = code(today - days_ago)
        last_days.append(today - days_ago)
        if value:
            points[rule.id] = value.quantize(Decimal("0.000001"))
    for fit_rule in draw(st.lists(st.sampled_from(model.model.fit_rules), max_size=3, unique_by=lambda r: r.id)):
        points[fit_rule.id] = fit_rule.points
    inactivity = draw(st.sampled_from([Decimal(0), Decimal(-5), Decimal(-10), Decimal(-20)]))
    if inactivity:
        points["inactivity"] = inactivity
    fit = sum((points[rule.id] for rule in model.model.fit_rules if rule.id in points), Decimal(0))
    engagement = sum((value for rule, value in points.items() if rule in model.engagement_ids), inactivity)
    quiet = draw(st.integers(0, 3)) * DAY_SECONDS
    last_activity = (max(last_days) * DAY_SECONDS if last_days else AT - draw(st.integers(0, 90)) * DAY_SECONDS) - quiet
    attributes: dict[str, str | Decimal] = {
        "company_size": draw(st.sampled_from(["1-9", "10-49", "51-200", "201-500", "1000-4999", "5000+"])),
        "industry": draw(st.sampled_from(["software", "retail", "finance"])),
        "email_domain": draw(st.sampled_from(["gmail.com", "acme.example"])),
    }
    if draw(st.booleans()):
        attributes["job_title"] = "VP Engineering"
    recycled = draw(st.one_of(st.none(), st.integers(0, 60)))
    return ScoreState(
        lead_id="lead",
        model_id=model.id,
        model_version=model.version,
        version=1,
        fit=fit,
        engagement=engagement,
        total=fit + engagement,
        stage=draw(st.sampled_from(list(Stage))),
        recycled_at=None if recycled is None else AT - recycled * DAY_SECONDS,
        points=points,
        hits=hits,
        rule_days=rule_days,
        attributes=attributes,
        last_activity_at=min(last_activity, AT),
        alerts_sent=draw(st.integers(0, 1)),
        created_at=AT - draw(st.integers(150, 400)) * DAY_SECONDS,
        suppressed=draw(st.booleans()) and draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), days=st.integers(0, 400))
def test_a_quiet_leads_probability_never_rises_as_the_decay_job_ages_it(
    predictor: Predictor, model: CompiledModel, data: st.DataObject, days: int
) -> None:
    # Given any lead state, as the daily decay job leaves it at AT
    state = apply_decay(data.draw(lead_states(model)), model, now=AT).state
    before = predictor.predict(state, model, AT).probability

    # When `days` pass with no event and the job ages it (it catches up on missed days exactly)
    later = AT + days * DAY_SECONDS
    aged = apply_decay(state, model, now=later).state

    # Then its served probability has not gone up, aged by the job or merely read later
    assert predictor.predict(aged, model, later).probability <= before + 1e-12
    assert predictor.predict(state, model, later).probability <= before + 1e-12


def test_the_artefacts_raw_weights_have_the_signs_and_order_time_needs(
    predictor: Predictor, model: CompiledModel
) -> None:
    # Given the trained artefact's weights on the raw features (coefficient / scale, what a value multiplies)
    weights = {feature.name: feature.coefficient / feature.scale for feature in predictor.artefact.features}
    shape = shape_for(model)

    # Then what fades as a lead goes quiet never lowers the probability by fading, what grows never raises
    # it, the recycling jump is not a feature, and along each fit letter the grid cells fall with engagement
    assert weights["decay:inactivity"] <= 0
    assert "decay:recycled" not in weights
    for name, weight in weights.items():
        low, high = shape.sign(name)
        assert low is None or weight >= low, name
        assert high is None or weight <= high, name
    assert any(name.endswith(":recency") for name in weights)
    for chain in shape.chains:
        cells = [weights.get(name, 0.0) for name in chain]  # a cell the artefact lacks weighs 0
        assert all(higher >= lower - 1e-12 for higher, lower in itertools.pairwise(cells)), chain
    assert predictor.artefact.calibration.a > 0  # a positive Platt slope keeps the logit's order
    # and the report names what was constrained
    constrained = predictor.artefact.report["monotone_in_quiet_time"]
    assert "decay:inactivity" in constrained["weight_at_most_0"]
    assert constrained["left_out"] == ["decay:recycled"]


def test_unconstrained_it_is_scikit_learns_l2_logistic_regression() -> None:
    # Given data where one column is an emphasised prior (its penalty 100 times weaker)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2000, 5)) * [1.0, 3.0, 0.2, 1.0, 5.0]
    y = (rng.random(2000) < 1 / (1 + np.exp(-(x[:, 0] - x[:, 1] / 3 - 2)))).astype(int)
    emphasis = np.array([1.0, 1.0, 10.0, 1.0, 1.0])

    # When both fit the same penalised loss
    ours = ShapedLogisticRegression(C=0.05, emphasis=emphasis).fit(x, y)
    theirs = LogisticRegression(C=0.05, max_iter=5000, tol=1e-10).fit(StandardScaler().fit_transform(x) * emphasis, y)

    # Then the weights agree (to the solvers' tolerance), and so do the probabilities
    assert np.max(np.abs(ours.coef_ - theirs.coef_)) < 1e-5
    assert abs(ours.intercept_[0] - theirs.intercept_[0]) < 1e-5
    assert (
        np.max(
            np.abs(
                ours.predict_proba(x)[:, 1] - theirs.predict_proba(StandardScaler().fit_transform(x) * emphasis)[:, 1]
            )
        )
        < 1e-6
    )


def test_constraints_hold_on_the_raw_weights_where_the_data_pulls_the_other_way() -> None:
    # Given columns the data wants with the wrong signs and out of order: c0 should be >= 0, c1 <= 0, and
    # the chain g1 >= g2 (missing) >= g3 with g2 absent (a cell without a column weighs 0)
    rng = np.random.default_rng(9)
    x = np.column_stack([rng.normal(size=3000), rng.normal(size=3000), rng.random(3000) < 0.3, rng.random(3000) < 0.3])
    x = x * [2.0, 0.5, 1.0, 1.0]
    y = (
        rng.random(3000) < 1 / (1 + np.exp(-(-1.0 * x[:, 0] + 2.0 * x[:, 1] - 1.0 * x[:, 2] + 1.0 * x[:, 3] - 1)))
    ).astype(int)
    columns = ["c0", "c1", "g1", "g3"]
    shape = Shape({"c0": NON_NEGATIVE, "c1": NON_POSITIVE}, (("g1", "g2", "g3"),))

    # When fitted under the shape
    fitted = ShapedLogisticRegression(C=1.0, design=Design.of(columns, shape)).fit(x, y)
    weights = fitted.coef_[0] / fitted.scale_

    # Then each constraint binds (the data wanted the opposite) and holds on the raw scale
    c0, c1, g1, g3 = weights
    assert c0 == pytest.approx(0.0, abs=1e-9)
    assert c1 == pytest.approx(0.0, abs=1e-9)
    assert g1 >= 0 >= g3
    assert np.allclose(weights, fitted.weights_)
    assert math.isfinite(fitted.intercept_[0])


def test_a_fading_demo_request_alone_never_raises_the_probability(predictor: Predictor, model: CompiledModel) -> None:
    # Given the demo's case: a lead whose demo request is all it did, then weeks of silence
    today = AT // DAY_SECONDS
    state = ScoreState(
        lead_id="lead",
        model_id=model.id,
        model_version=model.version,
        engagement=Decimal(40),
        total=Decimal(65),
        fit=Decimal(25),
        stage=Stage.MQL,
        points={"demo_request": Decimal(40), "exec_title": Decimal(25)},
        hits={"demo_request": 1},
        rule_days={"demo_request": code(today)},
        last_activity_at=AT,
        created_at=AT - 14 * DAY_SECONDS,
        attributes={"job_title": "CTO", "company_size": "51-200", "industry": "software"},
    )

    # When the decay job ages it week by week / Then its probability falls or stays, week after week
    probabilities = []
    for week in (0, 1, 2, 4, 8, 12):
        moment = AT + week * 7 * DAY_SECONDS
        state = apply_decay(replace(state), model, now=moment).state
        probabilities.append(predictor.predict(state, model, moment).probability)
    assert probabilities == sorted(probabilities, reverse=True)
