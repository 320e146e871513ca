"""Every form source carries the snippet's hidden field `ls_visitor_id` into `properties["visitor_id"]`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadscore.sources import forms, hubspot, tally, typeform, webflow
from leadscore.sources.base import NormaliseContext
from leadscore.sources.config import load_source_config
from tests.providers import sample

RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "scoring" / "sources"
VISITOR = "AbCdEfGhIjKlMnOpQrStUv"


def with_typeform(document: dict[str, Any], value: str) -> None:
    document["form_response"]["hidden"]["ls_visitor_id"] = value


def with_tally(document: dict[str, Any], value: str) -> None:
    document["data"]["fields"].append({"key": "question_hidden", "label": "ls_visitor_id", "type": "HIDDEN_FIELDS",
                                       "value": value})  # fmt: skip


def with_webflow(document: dict[str, Any], value: str) -> None:
    document["payload"]["data"]["ls_visitor_id"] = value


def with_hubspot(document: dict[str, Any], value: str) -> None:
    document["properties"]["ls_visitor_id"] = {"value": value}


SOURCES: dict[str, tuple[Any, str, Callable[[dict[str, Any], str], None]]] = {
    "typeform": (typeform, "typeform_form_response.json", with_typeform),
    "tally": (tally, "tally_form_response.json", with_tally),
    "webflow": (webflow, "webflow_form_submission.json", with_webflow),
    "hubspot": (hubspot, "hubspot_workflow_contact.json", with_hubspot),
}


def normalise(name: str, value: str) -> dict[str, Any]:
    module, file, add = SOURCES[name]
    document = json.loads(sample(file))
    add(document, value)
    context = NormaliseContext(RECEIVED, load_source_config(CONFIG_DIR, module.SOURCE.name))
    [event] = module.normalise(json.dumps(document).encode(), context)
    return dict(event.properties)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_form_tools_hidden_field_becomes_the_visitor_id(name: str) -> None:
    # Given the tool's documented payload with the hidden field the snippet filled / When normalised
    properties = normalise(name, VISITOR)

    # Then the event carries the visitor id under one name, whatever the tool called it
    assert properties["visitor_id"] == VISITOR
    assert "ls_visitor_id" not in properties


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_value_that_is_not_a_visitor_id_is_dropped(name: str) -> None:
    # Given a hidden field someone typed into / When normalised / Then it cannot link anything
    assert "visitor_id" not in normalise(name, "ada@example.com")


def test_the_generic_forms_route_takes_it_top_level_or_in_fields() -> None:
    context = NormaliseContext(RECEIVED)
    base = {"submission_id": "s-1", "form_id": "contact", "email": "ada@example.com"}
    for body in (base | {"ls_visitor_id": VISITOR}, base | {"fields": {"ls_visitor_id": VISITOR}}):
        [event] = forms.normalise(json.dumps(body).encode(), context)
        assert event.properties["visitor_id"] == VISITOR
