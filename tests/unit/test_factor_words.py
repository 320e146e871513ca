"""The probability's top factors on the score item: stored by key and details, worded again by every reader.

The words used to be stored (most of the predictive block's bytes on the hot item, and 53 of 300 items over
one write unit); now the item holds `[contribution, key, *details]` and readers word it from the rule model
(predictive/words.py), exactly as the predictor words it. Items written with the words still read.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from benchmarks.bench_predictive_serving import an_artefact_for, served
from benchmarks.capacity import item_size, write_units
from leadscore.adapters.score_item import RuleKeys, from_item, to_item
from leadscore.core.alerts import compose_alert
from leadscore.core.prediction import estimate, store_estimate
from leadscore.core.rules import CompiledModel
from leadscore.core.state import PendingAlert, ScoreState, StoredFactor
from leadscore.predictive.words import factor_words, stored_factor_label
from leadscore.services.leads import _predictive_score
from tests.unit.builders import the_default_model
from tests.unit.test_item_size import scored_leads

DAY = 86_400
MODEL = the_default_model()
KEYS = RuleKeys(MODEL.rule_ids)


def leads_with_the_block(leads: int = 120, *, only: tuple[str, ...] = ()) -> tuple[CompiledModel, list[ScoreState]]:
    """Leads of the default model's stream, each with the estimate its last write would store, under an
    artefact weighing every feature they have (or those whose name starts with one of `only`), labelled as
    `leadscore train` labels it."""
    states = [(state, int(state.updated_at or 0)) for state in scored_leads(leads, 12)]
    artefact = json.loads(an_artefact_for(MODEL, states))
    if only:
        artefact["features"] = [f for f in artefact["features"] if f["name"].startswith(only)]
    model = served(MODEL, json.dumps(artefact), (0.1, 0.2))
    for state, at in states:
        found = estimate(state, model, at)
        assert found is not None
        store_estimate(state, found, model, seed="t", now=at, lease_seconds=60)
    return model, [state for state, _ in states]


@pytest.fixture(scope="module")
def block() -> tuple[CompiledModel, list[ScoreState]]:
    return leads_with_the_block()


@pytest.mark.parametrize(
    ("only", "kinds"),
    [
        ((), {"eng", "size", "grid", "attr", "activity", "history", "title"}),
        (("score:", "breadth", "decay:"), {"score", "breadth"}),  # not in the top 3 above (the stream has no
        # automated activity: `auto:` factors share the rules' words, in the table test below)
    ],
    ids=["every feature", "scores and breadth"],
)
def test_a_stored_factor_is_worded_as_the_predictor_words_it(only: tuple[str, ...], kinds: set[str]) -> None:
    # Given leads with each kind of factor in their top three (rules with counts and days, size band, grid
    # cell, attribute values, scores, history, activity, breadth)
    model, states = leads_with_the_block(only=only)
    served_block = model.predictive
    assert served_block is not None
    checked, seen = 0, set()
    for state in states:
        for days in (0, 5, 60, 800):
            at = int(state.updated_at or 0) + days * DAY
            # When the estimate is stored on the item and the item is read back
            found = estimate(state, model, at)
            assert found is not None
            decoded = from_item(to_item(replace(state, p_factors=found.factors), KEYS), KEYS, fast=True)

            # Then a reader's words, from the stored key and details and the rule model alone, are the predictor's
            predicted = [factor.label[:80] for factor in found.prediction.top(3)]
            assert [stored_factor_label(f, model.descriptions) for f in decoded.p_factors] == predicted
            assert decoded.p_factors == found.factors
            checked += len(predicted)
            seen |= {factor.feature.split(":", 1)[0] for factor in found.factors}
    assert checked > 500  # factors compared
    assert kinds <= seen


@pytest.mark.parametrize(
    ("group", "details", "words"),
    [
        ("eng:demo_request", (3, 2), "Requested a demo: 3 times, last 2 days ago"),
        ("eng:demo_request", (1, 0), "Requested a demo: today"),
        ("eng:demo_request", (2,), "Requested a demo: twice"),
        ("auto:email_open", (1, 1), "Opened a marketing email (automated, not a person): yesterday"),
        ("size", ("50-199",), "Company size 50-199 employees"),
        ("size", ("unknown",), "Company size unknown"),
        ("grid", ("A1",), "Fit x engagement grid A1"),
        ("attr:industry", ("software",), "Industry: software"),
        ("score", (55, 40), "Rule score: fit 55, engagement 40"),
        ("history", (12, 1), "Reached the sales threshold before; known for 12 days"),
        ("history", (0,), "Lead new"),
        ("activity", (9,), "Last active 9 days ago"),
        ("breadth", (4,), "Engaged with 4 kinds of content"),
        ("fit:exec_title", (), "C-level or VP"),
        ("webmail", (), "Free webmail address"),
    ],
)
def test_the_words_of_each_kind_of_factor(group: str, details: tuple[Any, ...], words: str) -> None:
    # Given a stored factor of each kind, when a reader words it from the default model, then it reads as a sentence
    assert stored_factor_label(StoredFactor(group, Decimal("0.5"), details), MODEL.descriptions) == words


def test_an_unknown_kind_of_factor_is_its_words_alone() -> None:
    # Given a factor of a family a later feature set may add, then it reads as its words
    assert factor_words("novelty:x", "Something new", (3,)) == "Something new"


def an_item_in_the_layout_with_words(state: ScoreState) -> dict[str, Any]:
    """The score item as the scorer wrote it before factors were stored by key: [[label, contribution]]."""
    item = to_item(state, KEYS)
    item["p_factors"] = {
        "L": [
            {"L": [{"S": "Requested a demo: 2 days ago"}, {"N": "1.2734"}]},
            {"L": [{"S": "Looked at the demo / talk-to-sales page: 9 times, last 2 days ago"}, {"N": "1.12"}]},
            {"L": [{"S": "Free webmail address"}, {"N": "-0.4"}]},
        ]
    }
    return item


def test_an_item_written_with_the_words_still_reads_alerts_and_writes_back_as_it_was(
    block: tuple[CompiledModel, list[ScoreState]],
) -> None:
    # Given a lead's item written in the layout before keys (the words stored)
    model, states = block
    item = an_item_in_the_layout_with_words(states[0])

    # When it is read, an alert composed from it, and the state written back without a new estimate
    state = from_item(item, KEYS)
    pending = PendingAlert("a-1", 0, 0, state.total, state.stage)
    message = compose_alert(state, pending, model, {"first_name": "Ada"}, None)
    rewritten = to_item(state, KEYS)

    # Then the factors read as stored, in the same order and sign, and the layout is kept
    assert [stored_factor_label(f, model.descriptions) for f in state.p_factors] == [
        "Requested a demo: 2 days ago",
        "Looked at the demo / talk-to-sales page: 9 times, last 2 days ago",
        "Free webmail address",
    ]
    assert (
        "Why the probability\n"
        "  + Requested a demo: 2 days ago\n"
        "  + Looked at the demo / talk-to-sales page: 9 times, last 2 days ago\n"
        "  - Free webmail address\n"
    ) in message.body
    assert rewritten["p_factors"] == item["p_factors"]
    assert from_item(rewritten, KEYS, fast=True) == state


def with_the_words(state: ScoreState, model: CompiledModel) -> dict[str, Any]:
    """The item as it was written before keys: each factor as [label, contribution]."""
    worded = tuple(
        StoredFactor("", factor.contribution, (), stored_factor_label(factor, model.descriptions))
        for factor in state.p_factors
    )
    return to_item(replace(state, p_factors=worded), KEYS)


def test_a_typical_item_with_the_predictive_block_costs_one_write_unit(
    block: tuple[CompiledModel, list[ScoreState]],
) -> None:
    # Given leads after 30 days of activity with the predictive block stored (probability, top three factors,
    # p stage, artefact version)
    model, states = block
    assert all(len(state.p_factors) == 3 for state in states)

    # When their items are sized the DynamoDB way (names and values; numbers by significant digits)
    pairs = [(item_size(to_item(state, KEYS)), item_size(with_the_words(state, model))) for state in states]
    sizes = sorted(keyed for keyed, _ in pairs)
    p95 = sizes[int(0.95 * len(sizes))]

    # Then the typical item and the 95th percentile cost one write unit each, and storing keys instead of
    # words saves bytes on every item
    assert write_units(0, int(statistics.median(sizes))) == 1
    assert write_units(0, p95) == 1
    assert all(keyed < worded for keyed, worded in pairs)
    assert statistics.mean(worded - keyed for keyed, worded in pairs) > 50


def test_a_rules_factor_is_stored_under_the_rules_short_key_and_read_back_to_the_rule() -> None:
    # Given a lead whose top factors name rules (a rule of engagement and a fit rule) and a family
    factors = (
        StoredFactor("eng:pricing_link_click", Decimal("1.8402"), (2, 1)),
        StoredFactor("fit:exec_title", Decimal("0.3")),
        StoredFactor("size", Decimal("-0.2"), ("50-199",)),
    )
    state = replace(scored_leads(1, 3)[0], probability=Decimal("0.3"), p_factors=factors)

    # When its item is written and read
    item = to_item(state, KEYS)

    # Then the rules are named as the per-rule maps name them (4 characters), the family by its name, and the
    # item reads back to the same factors
    stored = [[value.get("N") or value.get("S") for value in factor["L"]] for factor in item["p_factors"]["L"]]
    assert stored == [
        ["1.8402", f"eng:{KEYS.key('pricing_link_click')}", "2", "1"],
        ["0.3", f"fit:{KEYS.key('exec_title')}"],
        ["-0.2", "size", "50-199"],
    ]
    assert len(KEYS.key("pricing_link_click")) == 4
    assert from_item(item, KEYS).p_factors == factors


def test_the_leads_api_and_the_alert_show_the_predictors_own_words(
    block: tuple[CompiledModel, list[ScoreState]],
) -> None:
    # Given leads whose items hold the block (factors by key)
    model, states = block
    served_block = model.predictive
    assert served_block is not None
    for state in states[:40]:
        at = int(state.updated_at or 0)
        words = [factor.label[:80] for factor in served_block.predictor.predict(state, model, at).top(3)]
        decoded = from_item(to_item(state, KEYS), KEYS)

        # When the leads API shows the lead's probability and an alert is composed from its item
        shown = _predictive_score(decoded, decoded, model, at)
        message = compose_alert(decoded, PendingAlert("a-1", at, at, decoded.total, decoded.stage), model, {}, None)

        # Then both show the predictor's top three in its own words, with their signs
        assert shown is not None
        assert [factor.label for factor in shown.factors] == words
        why = message.body.split("Why the probability\n", 1)[1].split("\n\n", 1)[0].splitlines()
        signs = ["+" if factor.contribution >= 0 else "-" for factor in decoded.p_factors]
        assert why == [f"  {sign} {label}" for sign, label in zip(signs, words, strict=True)]
