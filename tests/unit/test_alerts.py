"""The sales alert: a subject that fits SNS, a body a salesperson can act on, attributes for filters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadscore.core.alerts import SUBJECT_LIMIT, AlertMessage, compose_alert, lead_name
from leadscore.core.state import ScoreState
from leadscore.models.events import Scalar
from tests.unit.builders import (
    DAY,
    MONDAY,
    a_form_event,
    a_page_view,
    an_email_event,
    score_all,
    the_default_model,
)

ADA: dict[str, Scalar] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines",
    "job_title": "VP Engineering",
    "industry": "Software",
    "country": "GB",
}


def a_sales_ready_lead() -> ScoreState:
    """Fit 55 (VP, 250 people, software, GB); two opens and a pricing view on Monday; a demo on Tuesday."""
    state, _ = score_all(
        [
            a_form_event(title="VP Engineering", size=250, industry="Software", country="GB", form_id="other"),
            an_email_event(at=MONDAY + 60),
            an_email_event(at=MONDAY + 120),
            a_page_view("https://www.example.com/pricing", at=MONDAY + 180),
            a_form_event(form_id="demo-request", at=MONDAY + DAY),
        ],
        the_default_model(),
    )
    assert state.alert_pending is not None
    return state


def alert_for(state: ScoreState, profile: dict[str, Scalar] | None = None) -> AlertMessage:
    assert state.alert_pending is not None
    return compose_alert(
        state,
        state.alert_pending,
        the_default_model(),
        ADA if profile is None else profile,
        "ada@analytical.example",
    )


def test_the_subject_has_the_name_the_company_and_the_score() -> None:
    # Given a lead who just became sales-ready with 107 points
    state = a_sales_ready_lead()

    # When the alert is composed
    message = alert_for(state)

    # Then the subject says who, where and how good
    assert state.total == 107
    assert message.subject == "Sales-ready lead: Ada Lovelace (Analytical Engines) - score 107"


@pytest.mark.parametrize("length", [90, 101, 500])
def test_the_subject_fits_sns_even_for_very_long_names(length: int) -> None:
    # Given a lead with a very long name and company
    profile = {**ADA, "first_name": "A" * length, "company": "C" * length}

    # When the alert is composed
    message = alert_for(a_sales_ready_lead(), profile)

    # Then the subject is at most 100 characters, ends with an ellipsis, and still starts with the name
    assert len(message.subject) <= SUBJECT_LIMIT == 100
    assert message.subject.endswith("…")
    assert message.subject.startswith("Sales-ready lead: AAAA")


def test_the_subject_has_no_line_breaks_or_control_characters() -> None:
    # Given a name typed with a line break and a tab, and a company with a control character
    profile = {
        **ADA,
        "first_name": "Ada\nMarie",
        "last_name": "Love\tlace",
        "company": "Analytical\x07 Engines",
    }

    # When the alert is composed
    subject = alert_for(a_sales_ready_lead(), profile).subject

    # Then the subject is one printable line (SNS refuses anything else, forever)
    assert subject.isprintable()
    assert subject == "Sales-ready lead: Ada Marie Love lace (Analytical Engines) - score 107"


def test_without_a_company_the_subject_has_no_empty_brackets() -> None:
    profile = {key: value for key, value in ADA.items() if key != "company"}
    assert alert_for(a_sales_ready_lead(), profile).subject == "Sales-ready lead: Ada Lovelace - score 107"


@pytest.mark.parametrize(
    ("profile", "name"),
    [
        ({"first_name": "Ada", "last_name": "Lovelace"}, "Ada Lovelace"),
        ({"first_name": "  Ada  "}, "Ada"),
        ({"last_name": "Lovelace"}, "Lovelace"),
        ({"name": "Countess of Lovelace"}, "Countess of Lovelace"),
        ({"first_name": "", "last_name": "  "}, "Unnamed lead"),
        ({}, "Unnamed lead"),
    ],
)
def test_lead_name(profile: dict[str, Scalar], name: str) -> None:
    assert lead_name(profile) == name


def test_the_body_tells_sales_who_why_and_what_they_did() -> None:
    # Given a sales-ready lead
    state = a_sales_ready_lead()

    # When the alert is composed
    body = alert_for(state).body

    # Then it has the facts a salesperson needs
    assert "Ada Lovelace just became sales-ready under the 'B2B SaaS default' model." in body
    assert "VP Engineering" in body
    assert "Analytical Engines" in body
    assert "250 employees" in body
    assert "SQL (sales threshold 75)" in body
    assert "A1" in body  # fit 55 -> A, engagement 52 -> 1
    assert "ada@analytical.example" in body

    # ... the top five reasons with their points, biggest first
    reasons = body.split("Top reasons\n")[1].split("\n\n")[0].splitlines()
    assert reasons == [
        "  +40  Requested a demo",
        "  +25  C-level or VP",
        "  +15  50-2,000 employees",
        "  +10  Pricing page or pricing calculator",  # ties: by rule id
        "  +10  Software, SaaS, fintech or e-commerce",
    ]

    # ... and the recent activity, newest first, with repeat counts
    activity = body.split("Recent activity\n")[1].split("\n\n")[0].splitlines()
    assert activity == [
        "  Tue 24 Nov 2026  Requested a demo",
        "  Mon 23 Nov 2026  Pricing page or pricing calculator",
        "  Mon 23 Nov 2026  Opened a marketing email (2 times)",
    ]
    assert body.rstrip().endswith(f"alert {state.alert_pending.alert_id}")  # type: ignore[union-attr]


def test_negative_reasons_show_a_minus_sign() -> None:
    # Given a sales-ready lead on a webmail address
    state, _ = score_all(
        [
            a_form_event(email="ada@gmail.com", title="CEO", size=500, form_id="demo-request"),
            a_form_event(email="ada@gmail.com", form_id="free-trial", at=MONDAY + 60),
        ],
        the_default_model(),
    )

    # When the alert is composed / Then the penalty reads as -15, not +-15
    body = alert_for(state).body
    assert "  -15  Free webmail address" in body
    assert "+-" not in body


def test_the_attributes_let_subscribers_filter() -> None:
    # Given a sales-ready lead / When the alert is composed
    state = a_sales_ready_lead()
    message = alert_for(state)

    # Then the message attributes carry model, stage, band, score and the stable alert id
    assert message.attributes == {
        "model": "default",
        "stage": "SQL",
        "band": "A1",
        "score": Decimal(107),
        "alert_id": state.alert_pending.alert_id,  # type: ignore[union-attr]
    }
    assert message.alert_id == state.alert_pending.alert_id  # type: ignore[union-attr]
