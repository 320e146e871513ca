"""A predictive block served by the real handlers against emulated AWS: stored with the score, no extra request
on the fast path unless the predictive stage moves, opt-in alerts through the same outbox, shown by the API."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import yaml

from leadscore import clock
from leadscore.adapters.score_item import RuleKeys, from_item
from leadscore.core.prediction import estimate
from leadscore.core.state import StoredFactor
from leadscore.models.model_files import ModelFileError
from leadscore.models.served_models import load_served_models
from leadscore.predictive.words import stored_factor_label
from local.lambdas import load_handler
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import a_repeat_event_scored, a_submission, post_signed
from tests.integration.faults import Faults
from tests.unit.predictive_artefacts import write_artefact

ADA = "ada@analytical-engines.example"
# For scoring/default.yaml: a case study makes this executive likely (logit -3 + 4 ln 2 + 0.3 = 0.07: p = 0.52).
# Labelled as `leadscore train` labels them: the rule's description (features.group_description).
FEATURES = {
    "eng:case_study:hits": ("eng:case_study", "Downloaded a case study", 4.0),
    "eng:demo_request:hits": ("eng:demo_request", "Requested a demo", 2.0),
    "fit:exec_title": ("fit:exec_title", "C-level or VP", 0.3),
}
ARTEFACT = "default-likelihood.json"


pytestmark = pytest.mark.usefixtures("real_clock")


ModelsDir = Callable[..., Path]


@pytest.fixture
def models_dir(stack: EmulatedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelsDir:
    """Serve scoring/default.yaml with a predictive block (and its artefact) from a models directory of its own."""

    def make(*, alerts: bool = False, stages: dict[str, float] | None = None, artefact: bool = True) -> Path:
        directory = tmp_path / "scoring"
        shutil.copytree(ROOT / "scoring", directory, dirs_exist_ok=True)
        document = yaml.safe_load((directory / "default.yaml").read_text(encoding="utf-8"))
        document["predictive"] = {"artefact": ARTEFACT, "alerts": alerts, "stages": stages or {"mql": 0.2, "sql": 0.4}}
        (directory / "default.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        if artefact:
            write_artefact(directory, ARTEFACT, base_model="default", features=FEATURES)
        monkeypatch.setenv("SCORING_MODELS_DIR", str(directory))
        stack.reset_handler_caches()
        return directory

    return make


def stored(stack: EmulatedStack, directory: Path) -> Any:
    items = boto3.client("dynamodb").scan(TableName=stack.physical("LeadsTable"))["Items"]
    [item] = [item for item in items if item["sk"]["S"].startswith("SCORE#")]
    [model] = load_served_models(directory)
    return from_item(item, RuleKeys(model.rule_ids)), model


def test_an_exact_write_stores_the_probability_the_predictor_gives_at_the_events_time(
    stack: EmulatedStack, models_dir: ModelsDir
) -> None:
    # Given the default model served with a predictive block
    directory = models_dir()

    # When a new lead's whitepaper download is scored (exact path: a new lead)
    post_signed(stack, a_submission())
    stack.drain()

    # Then its score item holds the probability, top factors, predictive stage and artefact version
    state, model = stored(stack, directory)
    occurred_at = int(state.attributes_at)
    found = estimate(state, model, occurred_at)
    assert found is not None
    assert state.probability == found.probability == Decimal("0.0630")  # -3 + 0.3 (executive title)
    assert state.p_factors == (StoredFactor("fit:exec_title", Decimal("0.3000")),)  # stored by key
    assert [stored_factor_label(f, model.descriptions) for f in state.p_factors] == ["C-level or VP"]
    assert (state.p_stage, state.p_version) == ("LEAD", "20261201-test")
    assert (state.total, state.stage) == (60, "MQL")  # the rules, as without the block


@pytest.mark.parametrize("with_block", [True, False], ids=["with the block", "rules only"])
def test_a_fast_path_event_costs_one_update_item_with_or_without_the_block(
    stack: EmulatedStack, models_dir: ModelsDir, aws_faults: Faults, with_block: bool
) -> None:
    # Given the model served with or without a block whose stages a known lead's next event does not cross
    # (p = 0.063, LEAD; a case study lifts p to 0.52: below an SQL stage of 0.6, above MQL from the start)
    if with_block:
        models_dir(stages={"mql": 0.05, "sql": 0.6})

    # When a known lead reads a case study (same attributes, no rule threshold in reach)
    requests = a_repeat_event_scored(stack, aws_faults)

    # Then the scorer made exactly one DynamoDB request either way: the conditional UpdateItem
    assert requests == Counter({"UpdateItem": 1})


def test_the_stored_probability_lags_after_a_fast_path_event_and_the_api_shows_it_now(
    stack: EmulatedStack, models_dir: ModelsDir
) -> None:
    # Given a known lead served with a block (stages the case study does not cross)
    directory = models_dir(stages={"mql": 0.05, "sql": 0.6})
    post_signed(stack, a_submission())
    stack.drain()

    # When a case study is scored on the fast path, and the lead is read through the API
    post_signed(stack, a_submission(submission_id="sub-2", form_id="case-study-download"))
    stack.drain()
    status, _, body = stack.request("GET", f"/leads/{quote(ADA)}", token=stack.issuer.mint(["leads:read"]))

    # Then the item still holds the form's probability, and the API computes today's from the state
    state, _ = stored(stack, directory)
    assert state.probability == Decimal("0.0630")
    assert status == 200
    [score] = body["models"]
    predictive = score["predictive"]
    assert predictive["probability"] == pytest.approx(0.5181, abs=1e-4)  # -3 + 4 ln 2 + 0.3
    assert predictive["p_stage"] == "MQL"
    assert predictive["stored_probability"] == pytest.approx(0.0630)
    assert [factor["label"] for factor in predictive["factors"]] == ["Downloaded a case study: today", "C-level or VP"]
    assert predictive["artefact_version"] == "20261201-test"


@pytest.mark.parametrize("alerts", [True, False], ids=["opted in", "not opted in"])
def test_a_predictive_crossing_alerts_sales_exactly_once_only_when_opted_in(
    stack: EmulatedStack, models_dir: ModelsDir, alerts: bool
) -> None:
    # Given a known lead at p = 0.063 under a block whose SQL stage is 0.4
    directory = models_dir(alerts=alerts, stages={"mql": 0.2, "sql": 0.4})
    post_signed(stack, a_submission())
    stack.drain()

    # When a case study (fast path; the rule total 68 stays below 75) lifts p to 0.52, its webhook is delivered
    # twice more, and two newsletter sign-ups follow (rule total 72; p stays above the SQL stage)
    for submission, form in [(2, "case-study-download")] * 3 + [(3, "newsletter-signup"), (4, "newsletter-signup")]:
        post_signed(stack, a_submission(submission_id=f"sub-{submission}", form_id=form))
        stack.drain()

    # Then the predictive stage is recorded, and one predictive alert went out only if the model opted in
    state, _ = stored(stack, directory)
    assert state.p_stage == "SQL"
    assert state.stage == "MQL"  # the rule stage is untouched
    sent = stack.alerts()
    if not alerts:
        assert sent == []
        return
    [alert] = sent
    assert alert["attributes"]["kind"] == "predictive"
    assert alert["subject"].startswith("Likely to convert (52%): Ada Lovelace (Analytical Engines)")
    assert "+ Downloaded a case study: today" in alert["message"]
    assert state.alerts_sent == 1
    assert state.p_armed is False


@pytest.mark.parametrize("function", ["ScoreEventsFunction", "DecayScoresFunction", "SendAlertsFunction"])
def test_a_model_naming_a_missing_artefact_fails_at_load_with_a_clear_message(
    stack: EmulatedStack, models_dir: ModelsDir, function: str
) -> None:
    # Given the default model naming an artefact that was never written
    directory = models_dir(artefact=False)

    # When a function loads its models (its cold start)
    handler = load_handler(stack.functions[function])
    loader = sys.modules[handler.__module__].load_compiled_models
    with pytest.raises(ModelFileError) as error:
        loader(directory)

    # Then it fails naming the model, the file and what to do
    message = str(error.value)
    assert "model 'default': predictive.artefact 'default-likelihood.json'" in message
    assert str(directory / "predictive" / ARTEFACT) in message
    assert "leadscore train" in message


def test_the_decay_job_stores_the_probability_at_the_runs_time(stack: EmulatedStack, models_dir: ModelsDir) -> None:
    # Given a lead who read a case study, served with a block
    directory = models_dir(stages={"mql": 0.05, "sql": 0.6})
    post_signed(stack, a_submission(form_id="case-study-download"))
    stack.drain()
    before, model = stored(stack, directory)

    # When three quiet weeks pass and the decay schedule fires
    clock.advance(timedelta(weeks=3))
    stack.run_schedule("DecaySchedule")

    # Then the job's own write stored the probability of the decayed state at the run's time
    after, _ = stored(stack, directory)
    found = estimate(after, model, clock.now_epoch())
    assert found is not None
    assert after.engagement < before.engagement
    assert after.probability == found.probability
    assert after.p_factors == found.factors
    # stored at the run's time, not the event's
    assert stored_factor_label(after.p_factors[0], model.descriptions) == "Downloaded a case study: 21 days ago"
    assert stored_factor_label(before.p_factors[0], model.descriptions) == "Downloaded a case study: today"
