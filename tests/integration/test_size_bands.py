"""Dropdown company-size bands are accepted on every route the same way and meet `between` by their midpoint."""

from __future__ import annotations

import time

import pytest

from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed, the_score
from tests.providers import BY_NAME, sample

SIZE_RULES = {"target_company_size", "enterprise_company_size"}  # between [50, 2000] and over 2,000


@pytest.mark.parametrize(
    ("band", "rules"),
    [
        ("51-200", {"target_company_size"}),  # midpoint 125.5
        ("201\u20131,000 employees", {"target_company_size"}),
        ("1-50", set()),  # midpoint 25.5: a band mostly below the rule's 50
        ("5000+", {"enterprise_company_size"}),  # an open band by its lower bound
        ("10k+", {"enterprise_company_size"}),
    ],
)
def test_a_band_on_the_generic_route_is_accepted_and_scored_by_its_midpoint(
    stack: EmulatedStack, band: str, rules: set[str]
) -> None:
    # Given a submission whose company size is a dropdown band (the generic route answered 422 before)
    status, _ = post_signed(stack, a_submission(company_size=band))

    # When scored / Then the size rules that hold for the band's midpoint added their points
    stack.drain()
    assert status == 202
    assert set(the_score(stack)["b"]) & SIZE_RULES == rules


def test_the_same_band_from_a_form_tool_scores_the_same(stack: EmulatedStack) -> None:
    # Given Tally's documented sample, whose company-size answer is the "51-200" option
    tally = BY_NAME["tally"]
    credentials = tally.credentials()
    stack.set_secret(tally.secret, {"current": credentials.stored, "previous": ""})
    signed = tally.sign(credentials, sample(tally.sample), int(time.time()), "")

    # When it is posted and scored
    status, _ = stack.post("/webhooks/tally", signed.body, signed.headers)
    stack.drain()

    # Then the band was kept as a band and met the same rule as on the generic route
    assert status == 202
    assert set(the_score(stack)["b"]) & SIZE_RULES == {"target_company_size"}
