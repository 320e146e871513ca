"""The load test's probability check (local/load_predictive.py): a lead stored without the served model's
probability is named, and the end state fails; the rules alone are not checked for one."""

from __future__ import annotations

from leadscore.adapters.score_item import RuleKeys, to_item
from leadscore.core.prediction import predict_into
from local.load import EndState, check_end_state, expected_scores
from local.load_predictive import check_probabilities
from tests.unit.builders import MONDAY, a_form_event, the_default_model
from tests.unit.test_replay_probability import the_default_model_with_a_block

PEPPER = b"pepper-for-tests"


def two_leads() -> list:  # type: ignore[type-arg]
    return [
        a_form_event(email=f"lead{index}@example.com", event_id=f"sub-{index}", form_id="demo-request", title="CTO")
        for index in range(2)
    ]


def stored_items(*, served: int) -> tuple[list[dict], EndState]:  # type: ignore[type-arg]
    """Two leads as the scorer stores them under the block model, `served` of them with their probability."""
    model = the_default_model_with_a_block()
    expected = expected_scores(two_leads(), [model], PEPPER)
    items = []
    for index, (state, _) in enumerate(expected.values()):
        if index < served:
            predict_into(state, model, at=MONDAY, seed="s", now=MONDAY, lease_seconds=60)
        items.append(to_item(state, RuleKeys(model.rule_ids)))
    end = check_end_state(items, expected, [model], alerts_published=0)
    end.probability = check_probabilities(items, [model])
    return items, end


def test_every_lead_with_the_served_probability_passes() -> None:
    # Given both leads stored with the served artefact's probability / When checked / Then it passes
    _, end = stored_items(served=2)
    assert end.probability is not None
    assert end.probability.leads == 2
    assert end.probability.ok
    assert end.ok
    assert "2 of 2 leads carry one" in end.probability.line()


def test_a_lead_stored_without_its_probability_fails_the_end_state() -> None:
    # Given one lead stored without a probability (the rules' totals right) / When checked
    _, end = stored_items(served=1)

    # Then it is named and the end state fails
    assert end.probability is not None
    assert len(end.probability.missing) == 1
    assert not end.ok


def test_the_rules_alone_are_not_checked_for_a_probability() -> None:
    model = the_default_model()
    expected = expected_scores(two_leads(), [model], PEPPER)
    items = [to_item(state, RuleKeys(model.rule_ids)) for state, _ in expected.values()]
    assert check_probabilities(items, [model]) is None
