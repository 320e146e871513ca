"""Scoring model files: the default loads, and every mistake is reported with file, rule and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from leadscore.models.model_files import ModelFileError, load_model_file, load_models
from leadscore.models.scoring_model import Period
from tests.unit.builders import (
    DEFAULT_MODEL_FILE,
    a_condition,
    a_fit_rule,
    a_model_document,
    an_engagement_rule,
)


def write_model(directory: Path, document: Any, name: str = "model.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ModelFileError) as error:
        load_model_file(path)
    return str(error.value)


def test_the_default_model_loads() -> None:
    # Given the model shipped in scoring/
    # When it is loaded
    model = load_model_file(DEFAULT_MODEL_FILE)

    # Then it is the documented default, with its rules and thresholds
    assert model.id == "default"
    assert model.thresholds.mql < model.thresholds.sql
    assert model.rearm_level == model.thresholds.sql - model.rearm_margin
    assert {rule.id for rule in model.fit_rules} >= {"exec_title", "free_webmail", "competitor"}
    email_open = next(rule for rule in model.engagement_rules if rule.id == "email_open")
    assert email_open.cap is not None
    assert email_open.cap.per is Period.DAY


def test_the_models_directory_loads_by_id() -> None:
    # Given the repository's scoring/ directory
    # When every model in it is loaded
    models = load_models(DEFAULT_MODEL_FILE.parent)

    # Then the default model is there, under its id
    assert "default" in models


def a_rule_with_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return a_model_document(fit_rules=[a_fit_rule("senior_title", 10, condition)])


Mutation = Callable[[], dict[str, Any]]

FIT_ERRORS: list[tuple[str, Mutation, list[str]]] = [
    (
        "bad regex",
        lambda: a_rule_with_condition(a_condition("job_title", matches="(unclosed")),
        ["rule 'senior_title'", "when[0].matches", "invalid regular expression"],
    ),
    (
        "unknown operator",
        lambda: a_rule_with_condition(a_condition("job_title", resembles="vp")),
        ["rule 'senior_title'", "when[0].resembles", "Extra inputs are not permitted"],
    ),
    (
        "two operators in one condition",
        lambda: a_rule_with_condition(a_condition("job_title", equals="vp", matches="vp")),
        ["rule 'senior_title'", "when[0]", "exactly one of", "got equals, matches"],
    ),
    (
        "no operator at all",
        lambda: a_rule_with_condition(a_condition("job_title")),
        ["rule 'senior_title'", "when[0]", "got none"],
    ),
    (
        "between with no bounds",
        lambda: a_rule_with_condition(a_condition("company_size", between=[None, None])),
        ["rule 'senior_title'", "between needs at least one bound"],
    ),
    (
        "between upside down",
        lambda: a_rule_with_condition(a_condition("company_size", between=[100, 10])),
        ["rule 'senior_title'", "lower bound 100 is above upper bound 10"],
    ),
    (
        "cap per fortnight",
        lambda: a_model_document(
            engagement_rules=[an_engagement_rule("email_open", 1, "email_opened", cap=(3, "fortnight"))]
        ),
        ["engagement_rules[0]", "rule 'email_open'", "cap.per", "'day', 'week' or 'month'"],
    ),
    (
        "unknown event type",
        lambda: a_model_document(engagement_rules=[an_engagement_rule("tweet", 1, "tweeted")]),
        ["engagement_rules[0]", "rule 'tweet'", "event[0]"],
    ),
    (
        "duplicate rule ids across fit and engagement",
        lambda: a_model_document(
            fit_rules=[a_fit_rule("vip", 5, a_condition("job_title", equals="vp"))],
            engagement_rules=[an_engagement_rule("vip", 1, "email_opened")],
        ),
        ["rule id 'vip' is used twice"],
    ),
    (
        "mql not below sql",
        lambda: a_model_document(thresholds={"mql": 50, "sql": 50}),
        ["thresholds", "mql (50) must be below sql (50)"],
    ),
    (
        "bands not descending",
        lambda: a_model_document(
            bands={
                "fit": [{"name": "A", "min": 10}, {"name": "B", "min": 20}, {"name": "C"}],
                "engagement": [{"name": "1"}],
            }
        ),
        ["bands.fit", "highest min to the lowest"],
    ),
    (
        "last band with a min",
        lambda: a_model_document(
            bands={"fit": [{"name": "A"}], "engagement": [{"name": "1", "min": 30}, {"name": "2", "min": 0}]}
        ),
        ["bands.engagement", "last band (2) must have no min"],
    ),
    (
        "missing required keys",
        lambda: {key: value for key, value in a_model_document().items() if key not in {"version", "bands"}},
        ["version: Field required", "bands: Field required"],
    ),
]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [(case[1], case[2]) for case in FIT_ERRORS],
    ids=[case[0] for case in FIT_ERRORS],
)
def test_an_invalid_model_names_the_file_the_rule_and_the_field(
    tmp_path: Path, mutation: Mutation, expected: list[str]
) -> None:
    # Given a model file with one mistake
    path = write_model(tmp_path, mutation(), name="broken-model.yaml")

    # When it is loaded
    message = load_error(path)

    # Then the message names the file and says where and what
    assert message.startswith(f"{path}:")
    for fragment in expected:
        assert fragment in message


def test_bare_no_in_a_list_says_to_quote_it(tmp_path: Path) -> None:
    # Given a country list with an unquoted NO (YAML 1.1 reads it as false)
    path = tmp_path / "countries.yaml"
    text = yaml.safe_dump(a_model_document(fit_rules=[]), sort_keys=False)
    text += (
        "fit_rules:\n"
        "  - id: served_country\n"
        "    points: 5\n"
        "    when:\n"
        "      - field: country\n"
        "        one_of: [US, GB, NO, SE]\n"
    )
    path.write_text(text, encoding="utf-8")

    # When it is loaded
    message = load_error(path)

    # Then one problem is reported, for that item, with the advice to quote it
    assert "rule 'served_country'" in message
    assert "when[0].one_of[2]" in message
    assert "got False" in message
    assert "quote them" in message
    assert message.count("\n  - ") == 1  # one line, not one per union branch


def test_bare_yes_as_a_value_says_to_quote_it(tmp_path: Path) -> None:
    # Given an equals condition with a bare yes
    path = tmp_path / "yes.yaml"
    path.write_text(
        yaml.safe_dump(a_rule_with_condition(a_condition("opted_in", equals=True)), sort_keys=False),
        encoding="utf-8",
    )

    # When it is loaded / Then the message points at the value and says to quote it
    message = load_error(path)
    assert "when[0].equals" in message
    assert "quote them" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "expected a mapping at the top level, got list"),
        ("just text\n", "expected a mapping at the top level, got str"),
        ("", "expected a mapping at the top level, got NoneType"),
        ("id: [unclosed\n", "cannot read YAML"),
    ],
    ids=["list", "scalar", "empty", "broken-yaml"],
)
def test_a_document_that_is_not_a_mapping_is_rejected(tmp_path: Path, text: str, expected: str) -> None:
    # Given a file whose top level is not a mapping
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")

    # When it is loaded / Then the file and the reason are named
    message = load_error(path)
    assert message.startswith(f"{path}:")
    assert expected in message


def test_two_files_with_the_same_model_id_are_rejected(tmp_path: Path) -> None:
    # Given two files that both declare model id 'test'
    first = write_model(tmp_path, a_model_document(), name="a-first.yaml")
    second = write_model(tmp_path, a_model_document(version="2"), name="b-second.yml")

    # When the directory is loaded
    with pytest.raises(ModelFileError) as error:
        load_models(tmp_path)

    # Then both files and the id are named
    message = str(error.value)
    assert str(second) in message
    assert str(first) in message
    assert "model id 'test'" in message


def test_models_with_different_ids_run_side_by_side(tmp_path: Path) -> None:
    # Given two models with different ids
    write_model(tmp_path, a_model_document(id="smb"), name="smb.yaml")
    write_model(tmp_path, a_model_document(id="enterprise"), name="enterprise.yml")

    # When the directory is loaded / Then both are there
    assert set(load_models(tmp_path)) == {"smb", "enterprise"}


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    # Given no model file / When the directory is loaded / Then the directory is named
    with pytest.raises(ModelFileError, match="no scoring model"):
        load_models(tmp_path)
