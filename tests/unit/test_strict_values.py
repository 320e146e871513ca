"""Strict values on every route: sizes and bands read one way, booleans never numbers, NaN/Infinity refused,
over-long emails refused; and each source's body limit within what API Gateway and Lambda can carry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadscore.errors import WebhookRejected
from leadscore.sources import forms, hubspot, tally, webflow
from leadscore.sources.base import MAX_SOURCE_BODY_BYTES, NormaliseContext
from leadscore.sources.config import load_source_config
from leadscore.sources.registry import SOURCES
from tests.providers import sample
from tests.unit.builders import a_form_submission, a_webhook_request, an_ingest_rig
from tests.unit.test_provider_mapping import CONFIG_DIR, RECEIVED


@pytest.mark.parametrize(
    ("size", "stored"),
    [("51-200", "51-200"), ("5000+", "5000+"), ("201\u20131,000 employees", "201-1000"), ("250", 250), (250, 250)],
)
def test_the_generic_forms_route_accepts_sizes_and_bands(size: Any, stored: Any) -> None:
    # Given a submission whose company size is a dropdown band (it was a 422 before)
    rig = an_ingest_rig()

    # When accepted / Then the band is kept in its canonical text, a count as a number
    [event] = rig.service.accept("forms", a_webhook_request(a_form_submission(company_size=size)))
    assert event.attributes["company_size"] == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_size", True),  # was 1 employee
        ("company_size", "Infinity"),
        ("company_size", 12.5),
        ("annual_revenue", True),
        ("annual_revenue", "Infinity"),
        ("annual_revenue", "NaN"),
        ("annual_revenue", -1),
    ],
)
def test_the_generic_forms_route_refuses_booleans_and_non_finite_numbers(field: str, value: Any) -> None:
    rig = an_ingest_rig()
    with pytest.raises(WebhookRejected) as rejected:
        rig.service.accept("forms", a_webhook_request(a_form_submission(**{field: value})))
    assert (rejected.value.status, rejected.value.code) == (422, "invalid_submission")
    assert [detail["field"] for detail in rejected.value.details] == [field]
    assert rig.queue.sent == []


@pytest.mark.parametrize("email", ["a" * 65 + "@analytical.example", "ada@" + ".".join(["d" * 60] * 4) + ".example"])
def test_an_over_long_email_is_refused_on_the_generic_route(email: str) -> None:
    rig = an_ingest_rig()
    with pytest.raises(WebhookRejected) as rejected:
        rig.service.accept("forms", a_webhook_request(a_form_submission(email=email)))
    assert (rejected.value.status, rejected.value.code) == (422, "invalid_email")


def _tally_with_size(value: Any) -> bytes:
    document = json.loads(sample("tally_form_response.json"))
    [field] = [field for field in document["data"]["fields"] if field["label"] == "Company size"]
    field["value"], field["options"] = value, []
    return json.dumps(document).encode()


def _webflow_with_size(value: Any) -> bytes:
    document = json.loads(sample("webflow_form_submission.json"))
    document["payload"]["data"]["Company size"] = value
    return json.dumps(document).encode()


def _hubspot_with_size(value: Any) -> bytes:
    document = json.loads(sample("hubspot_workflow_contact.json"))
    document["properties"]["numemployees"] = {"value": value}
    return json.dumps(document).encode()


FORM_TOOLS = [(tally, _tally_with_size), (webflow, _webflow_with_size), (hubspot, _hubspot_with_size)]


@pytest.mark.parametrize(("module", "body_with"), FORM_TOOLS, ids=lambda item: getattr(item, "__name__", ""))
@pytest.mark.parametrize("value", [True, "Infinity", "NaN", -5, 12.5])
def test_form_tools_refuse_non_numbers_in_a_size_naming_the_field(module: Any, body_with: Any, value: Any) -> None:
    # Given a form tool's answer for the company size that no form can mean
    context = NormaliseContext(RECEIVED, load_source_config(CONFIG_DIR, module.SOURCE.name))

    # When normalised / Then 422 naming company_size (it used to be dropped or kept as a property)
    with pytest.raises(WebhookRejected) as rejected:
        module.normalise(body_with(value), context)
    assert rejected.value.status == 422
    assert rejected.value.details[0]["field"] == "company_size"


@pytest.mark.parametrize(("module", "body_with"), FORM_TOOLS, ids=lambda item: getattr(item, "__name__", ""))
@pytest.mark.parametrize(("value", "stored"), [("51-200", "51-200"), ("10k+", "10000+"), (250, 250), ("1,000", 1000)])
def test_form_tools_read_sizes_like_the_generic_route(module: Any, body_with: Any, value: Any, stored: Any) -> None:
    context = NormaliseContext(RECEIVED, load_source_config(CONFIG_DIR, module.SOURCE.name))
    [event] = module.normalise(body_with(value), context)
    assert event.attributes["company_size"] == stored
    assert forms.company_size(value) == stored  # the same reader as the generic route


def test_free_text_in_a_size_question_stays_a_property() -> None:
    context = NormaliseContext(RECEIVED, load_source_config(CONFIG_DIR, "webflow"))
    [event] = webflow.normalise(_webflow_with_size("Prefer not to say"), context)
    assert "company_size" not in event.attributes
    assert event.properties["company_size"] == "Prefer not to say"


def test_every_source_has_a_limit_the_platform_can_carry() -> None:
    # Given API Gateway's 10 MB and Lambda's 6 MB synchronous payload (the body JSON-escaped inside it)
    for source in SOURCES.values():
        # Then every source's own limit is within what reaches our function, so an oversize body gets our 413
        assert 64 * 1024 <= source.max_body_bytes <= MAX_SOURCE_BODY_BYTES, source.name
    # And SendGrid's documented 768 KB batches fit, with headroom
    assert SOURCES["sendgrid"].max_body_bytes >= 768 * 1000 * 1.25


def test_the_largest_valid_generic_submission_fits_the_forms_limit() -> None:
    # Given a submission at every bound of the contract, in characters that JSON escapes six-fold
    fields = {f"f{i:02d}" + "\u00e9" * 60: "\u00e9" * 1024 for i in range(50)}
    long = "\u00e9" * 256
    payload = a_form_submission(
        fields=fields, first_name=long, last_name=long, company=long, job_title=long, industry=long
    )
    body = json.dumps(payload).encode()  # ensure_ascii: \u00e9 written as 6 bytes

    # Then it is under the forms route's limit
    assert len(body) <= forms.SOURCE.max_body_bytes
