"""`make demo` serves a predictive model beside the rules: the models directory it deploys
(local/predictive_demo.py), served through `EmulatedStack(models_dir=…)` by the real handlers, gives every
lead a stored probability, alerts that show it, and leads API pages the demo prints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from leadscore.adapters.score_item import RuleKeys, from_item
from leadscore.core.prediction import estimate
from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState
from leadscore.models.served_models import load_served_models
from local.demo import FORMS_ROUTE, sign
from local.predictive_demo import ARTEFACT, predictive_block, print_probabilities, served_models_dir
from local.scenario import form_submissions
from local.stack import ROOT, EmulatedStack
from tests.unit.predictive_artefacts import write_artefact

# For scoring/default.yaml: demo requests, pricing views and an executive title make a lead likely.
FEATURES = {
    "eng:demo_request:hits": ("eng:demo_request", "Requested a demo", 2.5),
    "eng:pricing_page:hits": ("eng:pricing_page", "Viewed pricing", 0.8),
    "fit:exec_title": ("fit:exec_title", "Executive title", 0.6),
}


pytestmark = pytest.mark.usefixtures("real_clock")


@pytest.fixture
def demo_models(tmp_path: Path) -> Path:
    """The directory the demo deploys, from a hand-written artefact for the default model (training is the
    trainer's own tests' business; the demo's wiring is this one's)."""
    artefact = write_artefact(tmp_path / "trained", ARTEFACT, base_model="default", features=FEATURES)
    return served_models_dir(artefact, tmp_path / "scoring", block=predictive_block({"mql": 0.1, "sql": 0.3}))


@pytest.fixture
def served_stack(session_stack: EmulatedStack, demo_models: Path) -> Iterator[EmulatedStack]:
    """The session's stack rebuilt as the demo builds its own: SCORING_MODELS_DIR on the demo's models."""
    session_stack.models_dir = demo_models
    session_stack.reset()
    yield session_stack
    session_stack.models_dir = None
    session_stack.reset()


def test_the_demos_models_directory_serves_the_artefact_beside_the_default_rules(demo_models: Path) -> None:
    # Given the directory the demo builds, When the functions' loader reads it
    served = {model.id: model for model in load_served_models(demo_models)}

    # Then the default model carries the predictive block, its rules unchanged, its artefact attached
    [original] = [model for model in load_served_models(ROOT / "scoring") if model.id == "default"]
    default = served["default"]
    assert default.predictive is not None
    assert default.predictive.settings.artefact == ARTEFACT
    assert default.rule_ids == original.rule_ids
    assert original.predictive is None


def test_the_demos_leads_carry_a_probability_shown_by_the_leads_api_and_the_alerts(
    served_stack: EmulatedStack, demo_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo's own form submissions, sent signed to the forms webhook and scored
    key = served_stack.forms_key()
    for _, body in form_submissions(datetime.now(UTC)):
        raw = json.dumps(body).encode()
        served_stack.post(FORMS_ROUTE, raw, sign(key, raw))
    served_stack.drain()

    # Then every lead's score item holds the probability the predictor gives for its stored state
    [model] = [model for model in load_served_models(demo_models) if model.id == "default"]
    items = served_stack.score_items()
    assert items
    states = stored_states(served_stack, model)
    for state in states:
        assert state.p_version == "20261201-test"
        assert state.probability is not None
        assert Decimal(0) < state.probability < Decimal(1)
        assert state.p_stage is not None
    assert any(state.p_factors for state in states)  # a lead none of the artefact's features describe has none

    # When the demo prints the probability section (GET /leads/{id} for the top leads)
    shown = print_probabilities(served_stack)
    printed = capsys.readouterr().out

    # Then each page read has the probability, its stage and its factors, and the demo printed them
    assert len(shown) == min(5, len(items))
    for block in shown:
        assert 0 < block["probability"] < 1
        assert block["p_stage"] in {"LEAD", "MQL", "SQL"}
        if block["factors"]:
            assert f"{block['factors'][0]['contribution']:+.2f}  {block['factors'][0]['label']}" in printed
    assert any(block["factors"] for block in shown)
    assert "no probability in the answer" not in printed
    assert "200  " in printed

    # And the sales alerts the demo prints show the probability beside the rules
    alerts = served_stack.alerts()
    assert alerts
    assert all("Probability" in alert["message"] and "probability" in alert["attributes"] for alert in alerts)


def test_without_a_predictive_block_the_demo_prints_no_probability_section(
    stack: EmulatedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the rules alone (scoring/ as shipped) and one scored lead
    key = stack.forms_key()
    _, body = form_submissions(datetime.now(UTC))[0]
    raw = json.dumps(body).encode()
    stack.post(FORMS_ROUTE, raw, sign(key, raw))
    stack.drain()

    # When the demo's probability section runs, Then it prints and reads nothing
    assert print_probabilities(stack) == []
    assert capsys.readouterr().out == ""
    assert all("probability" not in item for item in stack.score_items())


def stored_states(stack: EmulatedStack, model: CompiledModel) -> list[ScoreState]:
    items = boto3.client("dynamodb").scan(TableName=stack.physical("LeadsTable"))["Items"]
    return [from_item(item, RuleKeys(model.rule_ids)) for item in items if item["sk"]["S"].startswith("SCORE#")]


def test_estimate_of_the_first_lead_matches_its_stored_probability_when_written_by_the_exact_path(
    served_stack: EmulatedStack, demo_models: Path
) -> None:
    # Given one new lead (a new lead is written by the exact path, at the event's time)
    key = served_stack.forms_key()
    _, body = form_submissions(datetime.now(UTC))[0]
    raw = json.dumps(body).encode()
    served_stack.post(FORMS_ROUTE, raw, sign(key, raw))
    served_stack.drain()

    # Then its stored probability is the predictor's for its stored state at the event's time
    [model] = [model for model in load_served_models(demo_models) if model.id == "default"]
    [state] = stored_states(served_stack, model)
    found = estimate(state, model, int(state.last_activity_at or 0))
    assert found is not None
    assert state.probability == found.probability
