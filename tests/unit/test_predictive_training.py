"""`leadscore train`: point-in-time examples (no leakage), the learner against scikit-learn, the refusal."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from leadscore.core.identity import lead_id_for
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import replay
from leadscore.models.events import EventType, LeadEvent, Scalar
from leadscore.predictive.artefact import load_predictor, parse_artefact
from leadscore.predictive.features import lead_features
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.pipeline import replay_into
from leadscore_cli.train import register
from leadscore_cli.training.examples import Example, build_examples, reference_times
from leadscore_cli.training.learn import (
    MIN_FEATURE_SUPPORT,
    NotEnoughData,
    Trained,
    TrainingOptions,
    choose_columns,
    matrix,
    train_model,
)
from local.population import simulate_population
from tests.unit.builders import (
    DAY,
    MONDAY,
    PEPPER,
    a_form_event,
    a_lead_event,
    a_page_view,
    as_datetime,
    the_default_model,
)

ROOT = Path(__file__).resolve().parents[2]
WEEK = 7 * DAY


def ledger_events(events: list[LeadEvent]) -> list[LedgerEvent]:
    return [LedgerEvent.of(event, lead_id_for(event.email, PEPPER)) for event in events]


def an_outcome(kind: str, *, email: str, at: int) -> LeadEvent:
    properties: dict[str, Scalar] = {"reason": "no_intent"} if kind == "sales_rejected" else {}
    return a_lead_event(EventType(kind), email=email, at=at, source="crm", properties=properties)


# ---- Point-in-time examples: nothing after the reference time reaches a feature ---------------------------


def test_an_event_after_the_reference_time_does_not_reach_that_examples_features() -> None:
    # Given a lead who downloads a white paper, then requests a demo on day 10, and is accepted on day 20
    email = "grace@navy.example"
    events = ledger_events(
        [
            a_form_event(email=email, form_id="whitepaper-download", title="CTO", at=MONDAY),
            a_form_event(email=email, form_id="demo-request", at=MONDAY + 10 * DAY),
            an_outcome("sales_accepted", email=email, at=MONDAY + 20 * DAY),
        ]
    )
    model = the_default_model()

    # When examples are built at day 7 (before the demo request) and day 14 (after it)
    examples = build_examples(events, model, [MONDAY + 7 * DAY, MONDAY + 14 * DAY, MONDAY + 21 * DAY], horizon_days=28)

    # Then the day-7 example knows nothing of the demo request, the day-14 one does; both are positives
    # (accepted within 28 days), and nothing is built at or after the acceptance
    before, after = examples
    assert "eng:demo_request:hits" not in before.features
    assert after.features["eng:demo_request:hits"] == pytest.approx(math.log1p(1))
    assert before.label
    assert after.label
    assert [example.at for example in examples] == [MONDAY + 7 * DAY, MONDAY + 14 * DAY]


def test_the_label_looks_only_at_the_horizon_after_the_reference_time() -> None:
    # Given a lead accepted 40 days after it was first seen
    email = "alan@bletchley.example"
    events = ledger_events(
        [
            a_page_view("/pricing", email=email, at=MONDAY),
            an_outcome("sales_accepted", email=email, at=MONDAY + 40 * DAY),
        ]
    )

    # When examples are built weekly with a 28-day horizon
    times = [MONDAY + week * WEEK for week in range(1, 6)]
    examples = build_examples(events, the_default_model(), times, horizon_days=28)

    # Then only the reference times within 28 days before the acceptance are positives
    assert [(example.at - MONDAY) // DAY for example in examples if example.label] == [14, 21, 28, 35]
    assert [(example.at - MONDAY) // DAY for example in examples if not example.label] == [7]


def test_a_rejected_lead_leaves_the_examples_at_its_rejection() -> None:
    email = "linus@kernel.example"
    events = ledger_events(
        [
            a_page_view("/pricing", email=email, at=MONDAY),
            an_outcome("sales_rejected", email=email, at=MONDAY + 10 * DAY),
        ]
    )
    examples = build_examples(events, the_default_model(), [MONDAY + 7 * DAY, MONDAY + 14 * DAY], horizon_days=28)
    assert [(example.at - MONDAY) // DAY for example in examples] == [7]
    assert not examples[0].label


@pytest.fixture(scope="module")
def small_population() -> tuple[list[LedgerEvent], list[int]]:
    population = simulate_population(40, seed=5, weeks=16)
    events = ledger_events(population.events)
    first, last = int(population.start.timestamp()), int(population.end.timestamp())
    return events, reference_times(first, last, every_days=7, horizon_days=28)


def test_every_example_is_the_official_replay_stopped_at_its_reference_time(
    small_population: tuple[list[LedgerEvent], list[int]],
) -> None:
    # Given a simulated population's events (outcomes included) and weekly reference times
    events, times = small_population
    model = the_default_model()

    # When examples are built
    examples = build_examples(events, model, times, horizon_days=28)

    # Then each one's features are those of the ledger replay (decay included) stopped at its reference
    # time, and its reference time precedes the lead's conversion: a feature computed at or after the
    # outcome, or from any event after the reference time, fails here
    rng = random.Random(3)
    checked = [example for example in examples if example.label] + rng.sample(examples, 12)
    assert any(example.label for example in checked)
    for example in checked:
        official = replay(events, [model], pepper=PEPPER, until=as_datetime(example.at), with_records=False)
        state = official.state(example.lead_id, model.id)
        assert state is not None
        assert example.features == lead_features(state, model, example.at), example.lead_id
        assert example.rule_total == float(state.total)
        if example.converted_at is not None:
            assert example.at < example.converted_at


# ---- Learning ---------------------------------------------------------------------------------------------


def synthetic_examples(leads: int, seed: int, weeks: int = 20) -> tuple[list[Example], list[int]]:
    """Examples whose conversions follow a known logistic rule of a few features (no replay: fast)."""
    rng = random.Random(seed)
    times = [MONDAY + week * WEEK for week in range(weeks)]
    examples = []
    for index in range(leads):
        lead = f"lead{index:05d}"
        fit = rng.random() < 0.4
        webmail = rng.random() < 0.3
        for at in times:
            demo = rng.random() < 0.1
            pricing = rng.randint(0, 4)
            features = {"eng:pricing_interest:hits": math.log1p(pricing)} if pricing else {}
            if demo:
                features["eng:demo_request:hits"] = math.log1p(1)
            if fit:
                features["fit:exec_title"] = 1.0
            if webmail:
                features["webmail"] = 1.0
            features["score:fit"] = 0.25 * fit - 0.15 * webmail
            logit = -4 + 2.5 * demo + 0.5 * pricing + 1.2 * fit - 1.0 * webmail
            label = rng.random() < 1 / (1 + math.exp(-logit))
            examples.append(Example(lead, at, features, 10.0 * pricing + 40 * demo, label, None))
    return examples, times


def small_options(**overrides: object) -> TrainingOptions:
    settings: dict[str, object] = {
        "name": "test-likelihood",
        "min_leads": 50,
        "min_conversions": 20,
        "min_test_conversions": 5,
        "c_grid": (0.01, 0.1, 1.0),
        "folds": 3,
    }
    settings.update(overrides)
    return TrainingOptions(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained() -> Trained:
    examples, times = synthetic_examples(300, seed=1)
    return train_model(examples, times, the_default_model(), small_options(), window=(times[0], times[-1]))


def test_the_served_probability_is_scikit_learns_to_1e_9(trained: Trained) -> None:
    # Given a model trained by scikit-learn, and its artefact read back from JSON
    predictor = Predictor.from_json(trained.artefact.to_json())
    examples, _ = synthetic_examples(40, seed=2)

    # When the pure-Python predictor and scikit-learn score the same examples
    served = [predictor.predict_features(example.features) for example in examples]
    expected = trained.calibrated.predict_proba(matrix(examples, trained.columns))[:, 1]

    # Then the probabilities agree to 1e-9, and each prediction's factors sum with its intercept to its logit
    assert np.max(np.abs(np.array([p.probability for p in served]) - expected)) < 1e-9
    for prediction in served:
        assert prediction.intercept + sum(f.contribution for f in prediction.factors) == pytest.approx(
            prediction.logit, abs=1e-9
        )


def test_the_measured_model_is_scikit_learns_too_when_not_refitted() -> None:
    # Given a model trained without the refit
    examples, times = synthetic_examples(300, seed=4)
    result = train_model(examples, times, the_default_model(), small_options(refit=False), window=(times[0], times[-1]))

    # When / Then the artefact serves the measured model
    assert result.measured is not None
    assert result.measured is result.calibrated
    probe, _ = synthetic_examples(10, seed=5)
    served = [Predictor(result.artefact).predict_features(example.features).probability for example in probe]
    expected = result.calibrated.predict_proba(matrix(probe, result.columns))[:, 1]
    assert np.max(np.abs(np.array(served) - expected)) < 1e-9


def test_the_report_measures_a_later_period_than_training(trained: Trained) -> None:
    # Given / When a model was trained on the synthetic examples
    report, split = trained.report, trained.split

    # Then no training label looks into the held-out period, the learned signal beats chance and the rule
    # total there, and the report carries the figures the README promises
    assert max(example.at for example in split.train) + 28 * DAY <= split.test_from
    assert min(example.at for example in split.test) >= split.test_from
    held = report["held_out"]
    assert held["auc"]["predictive"] > held["auc"]["rules"]
    # the margin with its 95 % interval (paired bootstrap over the held-out leads) around that difference
    margin = held["auc_margin"]
    assert margin["estimate"] == pytest.approx(held["auc"]["predictive"] - held["auc"]["rules"], abs=2e-4)
    low, high = margin["interval_95"]
    assert low <= margin["estimate"] <= high
    assert margin["clear"] == (low > 0)
    assert 0 <= held["ece"]["predictive"] <= 0.1
    assert len(held["lift_by_decile"]) == 10
    assert held["lift_by_decile"][0]["lift"] > 1
    assert {feature["feature"] for feature in report["top_features"][:3]} & {
        "eng:demo_request:hits",
        "fit:exec_title",
        "webmail",
        "eng:pricing_interest:hits",
    }


def test_the_artefact_carries_a_drift_reference_of_what_it_learned_from(trained: Trained) -> None:
    drift = trained.artefact.drift_reference
    assert set(drift.features) == set(trained.columns)
    for histogram in [*drift.features.values(), drift.probability]:
        assert len(histogram.edges) == len(histogram.shares) + 1
        assert sum(histogram.shares) == pytest.approx(1.0, abs=1e-5)
    assert drift.probability.edges[0] == 0.0
    assert drift.probability.edges[-1] == 1.0
    assert parse_artefact(trained.artefact.to_json()) == trained.artefact


def test_too_few_conversions_are_refused_with_the_numbers() -> None:
    # Given 30 leads (the default minimums want 200 leads and 50 converting ones)
    examples, times = synthetic_examples(30, seed=6)

    # When training is asked for / Then it refuses, naming what it found and what it needs
    with pytest.raises(NotEnoughData) as refusal:
        train_model(examples, times, the_default_model(), TrainingOptions(name="x"), window=(times[0], times[-1]))
    message = str(refusal.value)
    assert "30 leads (need at least 200)" in message
    assert "(need at least 50)" in message
    assert "within 28 days" in message


# ---- The command ------------------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """leadscore (test harness: only the train command)."""

    register(app)
    return app


def a_converting_world(leads: int, seed: int) -> list[LeadEvent]:
    """Leads whose demo requests and titles drive acceptance, over 20 weeks (enough to learn, fast to replay)."""
    rng = random.Random(seed)
    start = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
    events: list[LeadEvent] = []
    for index in range(leads):
        email = f"lead{index}@company{index % 50}.example"
        joined = start + rng.randrange(0, 100) * DAY
        senior = rng.random() < 0.4
        events.append(
            a_form_event(email=email, form_id="newsletter-signup", title="VP Sales" if senior else "Intern", at=joined)
        )
        interested = rng.random() < 0.4
        day = joined + rng.randrange(1, 20) * DAY
        if interested:
            events.append(a_page_view("/pricing", email=email, at=day))
            events.append(a_form_event(email=email, form_id="demo-request", at=day + 3600))
        if rng.random() < (0.75 if interested and senior else 0.25 if interested else 0.03):
            events.append(an_outcome("sales_accepted", email=email, at=day + rng.randrange(2, 15) * DAY))
    return events


def test_train_refuses_a_small_ledger_with_the_numbers_and_a_non_zero_exit(tmp_path: Path) -> None:
    # Given the ledger of a 40-lead world
    ledger = replay_into(a_converting_world(40, seed=8), the_default_model().model, tmp_path / "state")

    # When `leadscore train` runs on it
    result = CliRunner().invoke(
        cli(),
        [
            "train",
            "--model",
            "default",
            "--ledger",
            str(ledger),
            "--models-dir",
            str(ROOT / "scoring"),
            "--out",
            str(tmp_path / "m.json"),
        ],
    )

    # Then it refuses, with the numbers, writes nothing and exits non-zero
    assert result.exit_code == 3
    found = re.search(
        r"refused: not enough data to learn from: (\d+) leads \(need at least 200\); (\d+) leads "
        r"converting in the training period \(need at least 50\)",
        " ".join(result.output.split()),
    )
    assert found is not None, result.output
    assert 0 < int(found.group(1)) <= 40
    assert int(found.group(2)) < 50
    assert not (tmp_path / "m.json").exists()


def test_train_writes_an_artefact_the_scorer_can_load(tmp_path: Path) -> None:
    # Given the ledger of a 600-lead world where senior leads who ask for a demo get accepted
    ledger = replay_into(a_converting_world(600, seed=9), the_default_model().model, tmp_path / "state")
    out = tmp_path / "predictive" / "default-likelihood.json"

    # When `leadscore train` runs on it
    result = CliRunner().invoke(
        cli(),
        [
            "train",
            "--model",
            "default",
            "--ledger",
            str(ledger),
            "--models-dir",
            str(ROOT / "scoring"),
            "--out",
            str(out),
            "--test-share",
            "0.3",
        ],
    )

    # Then the artefact loads as a Predictor over the default model, and the summary states the comparison
    assert result.exit_code == 0, result.output
    predictor = load_predictor(out)
    assert (predictor.name, predictor.base_model) == ("default-likelihood", "default")
    assert "Held-out AUC: predictive" in result.output
    interval = r"95 % interval \[[-+]\d\.\d{3}, [-+]\d\.\d{3}\] over leads: (a|not a) clear margin"
    assert re.search(interval, result.output)
    assert predictor.artefact.report["held_out"]["auc"]["predictive"] > 0.6


def test_a_feature_every_example_has_is_kept_when_its_values_vary() -> None:
    # Given examples that all carry the activity's recency (every lead has a last activity) with varying
    # values, one constant feature, and one set in too few examples to learn from
    examples = [
        Example(
            lead_id=f"lead-{number}",
            at=MONDAY,
            features={
                "activity:week": 0.5 ** (number % 5),
                "bias": 1.0,
                **({"rare": 1.0} if number < MIN_FEATURE_SUPPORT - 1 else {}),
            },
            rule_total=0.0,
            label=number % 7 == 0,
            converted_at=None,
        )
        for number in range(40)
    ]

    # When the learner chooses its columns
    columns = choose_columns(examples)

    # Then the varying one is kept, the constant and the rare ones are not
    assert columns == ["activity:week"]


def test_train_help_renders() -> None:
    # Given / When the help is asked for / Then it renders (rich markup in a help text would break it)
    result = CliRunner().invoke(cli(), ["train", "--help"])
    assert result.exit_code == 0, result.output
    assert "--horizon-days" in result.output
