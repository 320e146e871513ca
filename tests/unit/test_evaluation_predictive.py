"""`leadscore evaluate` with a predictive model: same leads as the rules, no leakage, calibration, drift, report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import typer
from typer.testing import CliRunner

from leadscore.core.identity import lead_id_for
from leadscore.core.rules import compile_model
from leadscore.ledger.replay import events_from_ledger, replay
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.artefact import load_predictor
from leadscore_cli.evaluate import predictive_spec, register
from leadscore_cli.evaluation.pipeline import EvaluationRequest, EvaluationRun, replay_into, run
from leadscore_cli.evaluation.predictive import (
    PredictiveSpec,
    cutoff_of,
    expected_calibration_error,
    load_spec,
    p_stage,
    recent_times,
    reliability,
)
from leadscore_cli.ledger_source import read_ledger
from local.evaluation_demo import build_population_ledger
from tests.unit.predictive_fixture import write_artefact

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model_file(ROOT / "scoring" / "default.yaml")
START = datetime(2026, 11, 2, 10, tzinfo=UTC)


# ---- calibration -------------------------------------------------------------------------------------------


def test_reliability_bins_and_calibration_error_equal_the_hand_values() -> None:
    # Given two leads at 5 % (one accepted), one at 15 % (not), one at 95 % (accepted)
    probabilities, labels = [0.05, 0.05, 0.15, 0.95], [False, True, False, True]
    # When
    bins = reliability(probabilities, labels)
    # Then: ten bins; [0, 10 %) predicted 5 % observed 50 %, [10, 20 %) 15 % / 0 %, [90, 100 %] 95 % / 100 %
    assert len(bins) == 10
    assert [(b.leads, b.predicted, b.observed) for b in bins if b.leads] == [
        (2, 0.05, 0.5),
        (1, 0.15, 0.0),
        (1, 0.95, 1.0),
    ]
    # ECE = (2·0.45 + 1·0.15 + 1·0.05) / 4 = 0.275
    assert expected_calibration_error(bins) == pytest.approx(0.275)
    assert reliability([1.0], [True])[-1].leads == 1  # a probability of exactly 1 is in the last bin


def test_a_day_only_outcome_counts_the_whole_day_as_before_it() -> None:
    # Given an outcome dated 5 Nov 00:00 (a CRM export) and one at 14:30
    day_only = datetime(2026, 11, 5, tzinfo=UTC)
    timed = datetime(2026, 11, 5, 14, 30, tzinfo=UTC)
    # When / Then: as lead_outcomes.sql has it
    assert cutoff_of(day_only) == datetime(2026, 11, 6, tzinfo=UTC)
    assert cutoff_of(timed) == timed
    assert cutoff_of(None) is None


# ---- on a simulated population -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, root = build_population_ledger(60, 21, tmp_path_factory.mktemp("population"))
    return root


@pytest.fixture(scope="module")
def artefact_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_artefact(tmp_path_factory.mktemp("predictive") / "default-likelihood.json")


def _run(ledger: Path, spec: PredictiveSpec) -> EvaluationRun:
    return run(EvaluationRequest(ledger=str(ledger), model=MODEL, half_life_rules=0, predictive=spec))


def test_both_models_are_measured_on_the_same_leads(population_ledger: Path, artefact_file: Path) -> None:
    # Given the population's ledger and a predictive artefact on the default model
    spec = load_spec(artefact_file)
    # When
    result = _run(population_ledger, spec)
    # Then: one probability per lead the rules were evaluated on, same ids, same order, same labels
    p = result.predictive
    assert p is not None
    assert p.lead_ids == [row.lead_id for row in result.evaluation.leads]
    assert p.labels == [row.accepted for row in result.evaluation.leads]
    assert all(0.0 < probability < 1.0 for probability in p.probabilities)
    assert len(set(p.probabilities)) > 5  # leads differ
    # and every metric is there for both models
    assert result.evaluation.auc is not None
    assert p.auc is not None
    assert p.ece is not None
    assert sum(rate.leads for rate in p.by_stage.values()) == len(p.lead_ids)
    assert sum(d.leads for d in p.deciles) == len(p.lead_ids)
    # flagged at MQL: leads the scorer would stage MQL or SQL (the served 4 places against the stage)
    assert p.at_mql.flagged == sum(1 for probability in p.probabilities if p_stage(probability, spec.stages) != "LEAD")
    assert p.drift is not None
    # drift "now": snapshots of open leads over the last 8 weeks; those 28 days old or more are judged
    assert p.drift.snapshots > 0
    assert 0 < p.drift.judged < p.drift.snapshots
    assert {item.name for item in p.drift.features} == {
        "eng:demo_request:hits", "eng:pricing_interest:hits", "fit:exec_title", "webmail", "activity:week"
    }  # fmt: skip


def test_each_probability_is_the_predictor_on_the_state_before_the_outcome(
    population_ledger: Path, artefact_file: Path
) -> None:
    # Given the evaluation of the population with the artefact
    result = _run(population_ledger, load_spec(artefact_file))
    assert result.predictive is not None
    predictor = load_predictor(artefact_file)
    compiled = compile_model(MODEL)
    events = events_from_ledger(read_ledger(str(population_ledger)))
    outcome_types = {"sales_accepted", "sales_rejected", "deal_won", "deal_lost"}
    checked = 0
    for row, probability in zip(result.evaluation.leads, result.predictive.probabilities, strict=True):
        if row.outcome_at is None:
            continue
        # When the lead's own non-outcome events up to its outcome are replayed independently
        cutoff = cutoff_of(row.outcome_at)
        assert cutoff is not None
        mine = [e for e in events if e.lead_id == row.lead_id and e.type not in outcome_types
                and e.occurred_at <= cutoff]  # fmt: skip
        state = replay(mine, [compiled], pepper=b"", with_records=False).state(row.lead_id, MODEL.id)
        assert state is not None
        at = int(max(e.occurred_at for e in mine).timestamp())
        # Then the evaluated probability is the predictor's on that state, at that moment
        assert probability == pytest.approx(predictor.predict(state, compiled, at).probability, abs=1e-12)
        checked += 1
    assert checked >= 3


def test_recent_times_step_back_from_the_evaluation_time() -> None:
    # Given an evaluation at a decay run's time
    end = int(datetime(2026, 11, 30, 2, 15, tzinfo=UTC).timestamp())
    day = 86_400
    # When / Then: weekly back over the last 8 weeks (9 times), or back to --since
    assert recent_times(end, start=None, every_days=7) == [end - k * 7 * day for k in range(8, -1, -1)]
    assert recent_times(end, start=end - 10 * day, every_days=7) == [end - 7 * day, end]
    assert recent_times(end, start=end + day, every_days=7) == [end]


# ---- no leakage ---------------------------------------------------------------------------------------------


def _event(n: int, kind: str, at: datetime, email: str = "ada@acme.example", **properties: Any) -> LeadEvent:
    return LeadEvent(
        event_id=f"e{n}", source="forms", type=EventType(kind), occurred_at=at, received_at=at,
        email=email, attributes={"job_title": "CTO", "company_size": 300} if n == 1 else {}, properties=properties,
    )  # fmt: skip


def _history(with_after: bool) -> list[LeadEvent]:
    events = [
        _event(1, "form_submitted", START, form_id="webinar-signup"),
        _event(2, "page_viewed", START + timedelta(days=1), page_url="https://x.example/pricing"),
        _event(3, "sales_accepted", START + timedelta(days=3)),
        _event(10, "form_submitted", START + timedelta(days=1), email="bob@beta.example", form_id="newsletter"),
    ]
    if with_after:  # a demo request a second after the outcome, another a week later
        events += [
            _event(4, "form_submitted", START + timedelta(days=3, seconds=1), form_id="demo-request"),
            _event(5, "form_submitted", START + timedelta(days=10), form_id="demo-request"),
        ]
    return events


def _probability_of_ada(tmp_path: Path, artefact_file: Path, *, with_after: bool) -> float:
    root = replay_into(_history(with_after), MODEL, tmp_path / f"ledger-{with_after}")
    result = _run(root, load_spec(artefact_file))
    assert result.predictive is not None
    ada = lead_id_for("ada@acme.example", b"")
    return dict(zip(result.predictive.lead_ids, result.predictive.probabilities, strict=True))[ada]


def test_events_at_or_after_the_outcome_do_not_change_the_evaluated_probability(
    tmp_path: Path, artefact_file: Path
) -> None:
    # Given a lead accepted by sales on day 3, evaluated without and with demo requests after that moment
    before = _probability_of_ada(tmp_path, artefact_file, with_after=False)
    # When
    after = _probability_of_ada(tmp_path, artefact_file, with_after=True)
    # Then the evaluated probability is the same
    assert after == before
    # and it is not the same because demo requests do not matter: counted, they would raise it
    compiled = compile_model(MODEL)
    state = replay(_history(True), [compiled], pepper=b"").state(lead_id_for("ada@acme.example", b""), MODEL.id)
    assert state is not None
    leaked = load_predictor(artefact_file).predict(state, compiled, int((START + timedelta(days=10)).timestamp()))
    assert leaked.probability > before + 0.05


# ---- drift and advice --------------------------------------------------------------------------------------


def test_a_shifted_probability_distribution_brings_the_retrain_advice(population_ledger: Path, tmp_path: Path) -> None:
    # Given an artefact whose training probabilities were all in the top bin (40 % to 100 %)
    shifted = write_artefact(tmp_path / "shifted.json", probability_shares=[0.0, 0.0, 0.0, 0.0, 1.0])
    # When the population (mostly low probabilities) is evaluated with it
    result = _run(population_ledger, load_spec(shifted))
    # Then the probability's PSI is far above 0.25 and the summary says retrain
    assert result.predictive is not None
    assert result.predictive.drift is not None
    assert result.predictive.drift.probability is not None
    assert result.predictive.drift.probability.psi > 0.25
    assert "Advice: retrain default-likelihood" in result.summary()
    assert "retrain default-likelihood" in result.html()


def test_a_matching_reference_brings_no_retrain_advice(population_ledger: Path, tmp_path: Path) -> None:
    # Given an artefact whose probability reference is exactly today's distribution
    first = _run(population_ledger, load_spec(write_artefact(tmp_path / "a.json")))
    assert first.predictive is not None
    assert first.predictive.drift is not None
    assert first.predictive.drift.probability is not None
    same = list(first.predictive.drift.probability.current)
    # When evaluated again against it
    result = _run(population_ledger, load_spec(write_artefact(tmp_path / "b.json", probability_shares=same)))
    # Then
    assert result.predictive is not None
    assert result.predictive.drift is not None
    assert result.predictive.drift.probability is not None
    assert result.predictive.drift.probability.psi == 0.0
    assert "Advice: retrain" not in result.summary()


# ---- the report and the CLI --------------------------------------------------------------------------------


def test_the_report_has_the_predictive_section_beside_the_rules(population_ledger: Path, artefact_file: Path) -> None:
    # Given
    result = _run(population_ledger, load_spec(artefact_file))
    # When
    html, text = result.html(), result.summary()
    # Then: the section with its comparison, charts (inline SVG) and what to do under each
    section = html[html.index("<h2 id='predictive'>Predictive model</h2>") :]
    assert "rule model" in section
    assert "predictive model" in section
    assert section.count("<svg") == 5  # gains, calibration, probability stages, probability drift, feature drift
    assert section.count("What to do:") == 5
    assert "Observed acceptance against predicted probability" in section
    assert "Most shifted features" in section
    assert html.index("Predictive model") < html.index("How these numbers are made")
    # and the terminal summary has both columns and the drift lines
    assert "Predictive model default-likelihood test-1" in text
    assert "Calibration error (ECE)" in text
    assert "Score drift (PSI of the probability)" in text
    assert "Feature drift (PSI)" in text


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """leadscore (test harness: only the evaluate command)."""

    register(app)
    return app


def test_the_cli_evaluates_an_artefact_given_with_predictive(
    population_ledger: Path, artefact_file: Path, tmp_path: Path
) -> None:
    # When
    report = tmp_path / "report.html"
    options = ["--predictive", str(artefact_file), "--p-mql", "0.1", "--p-sql", "0.3", "--half-life-rules", "0"]
    result = CliRunner().invoke(
        cli(),
        [
            "evaluate",
            "--ledger",
            str(population_ledger),
            "--out",
            str(report),
            "--models-dir",
            str(ROOT / "scoring"),
            *options,
        ],
    )
    # Then
    assert result.exit_code == 0, result.output
    assert "p ≥ 0.1: precision" in result.stdout
    assert "Predictive model" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("changes", "options", "message"),
    [
        ({"base_model": "other"}, [], "trained on model 'other'"),
        ({}, ["--p-mql", "0.5", "--p-sql", "0.2"], "0 < MQL < SQL <= 1"),
    ],
)
def test_the_cli_refuses_an_artefact_of_another_model_or_inverted_stages(
    population_ledger: Path, tmp_path: Path, changes: dict[str, Any], options: list[str], message: str
) -> None:
    # Given
    artefact = write_artefact(tmp_path / "x.json", **changes)
    # When
    result = CliRunner().invoke(cli(), ["evaluate", "--ledger", str(population_ledger), "--out",
                                        str(tmp_path / "r.html"), "--models-dir", str(ROOT / "scoring"),
                                        "--predictive", str(artefact), *options])  # fmt: skip
    # Then: a usage error naming the problem, no report
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "r.html").exists()


def test_the_cli_names_an_unreadable_artefact(population_ledger: Path, tmp_path: Path) -> None:
    # Given a file that is not an artefact
    broken = tmp_path / "broken.json"
    broken.write_text('{"artefact_version": 1}', encoding="utf-8")
    # When
    result = CliRunner().invoke(cli(), ["evaluate", "--ledger", str(population_ledger), "--models-dir",
                                        str(ROOT / "scoring"), "--predictive", str(broken)])  # fmt: skip
    # Then
    assert result.exit_code == 2
    assert "missing field" in " ".join(result.output.split())


def test_the_models_predictive_block_names_the_artefact_and_its_stages(tmp_path: Path) -> None:
    # Given a model whose `predictive:` block (C3) names an artefact in predictive/ beside the models
    write_artefact(tmp_path / "predictive" / "default-likelihood.json")
    stages = SimpleNamespace(mql=Decimal("0.2"), sql=Decimal("0.5"))
    model = SimpleNamespace(id="default", predictive=SimpleNamespace(artefact="default-likelihood.json", stages=stages))
    # When no --predictive is given
    spec = predictive_spec(cast("ScoringModel", model), None, tmp_path, (None, None))
    # Then the block's artefact and stages are used; --p-sql overrides one stage; no block and no option: none
    assert spec is not None
    assert spec.source == str(tmp_path / "predictive" / "default-likelihood.json")
    assert spec.stages == (0.2, 0.5)
    overridden = predictive_spec(cast("ScoringModel", model), None, tmp_path, (None, 0.6))
    assert overridden is not None
    assert overridden.stages == (0.2, 0.6)
    assert predictive_spec(MODEL, None, tmp_path, (None, None)) is None
