"""Erasure's suppression rule in the scorer, and the leads API's signed cursors (pure, with fakes)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore.core.erasure import ForgedCursor, cursor_key, open_cursor, sign_cursor, suppression_key
from leadscore.core.identity import lead_id_for
from leadscore.services.scoring import Path
from tests.unit.builders import PEPPER, a_form_event, a_scoring_rig

EMAIL = "ada@analytical.example"
KEY = cursor_key(PEPPER)


def test_the_suppression_key_is_neither_the_lead_id_nor_unkeyed() -> None:
    assert suppression_key(EMAIL, PEPPER) != lead_id_for(EMAIL, PEPPER)
    assert suppression_key(EMAIL, PEPPER) != suppression_key(EMAIL, b"another pepper")
    assert suppression_key(EMAIL, PEPPER) == suppression_key(EMAIL, PEPPER)


def test_an_erased_address_creates_no_lead_and_a_known_lead_is_never_asked_about() -> None:
    # Given a scorer whose suppression list holds one address
    asked: list[str] = []

    def erased(email: str) -> bool:
        asked.append(email)
        return email == "gone@example.com"

    rig = a_scoring_rig()
    rig.service = dataclasses.replace(rig.service, erased=erased)
    # When an event for the erased address arrives, Then it is dropped under every model and nothing is stored
    outcomes = rig.service.process(a_form_event(email="gone@example.com", title="CTO"))
    assert {outcome.path for outcome in outcomes} == {Path.SUPPRESSED}
    assert rig.store.scores == {}
    assert rig.store.profiles == {}
    # When a new address scores and then scores again, Then the list is asked once (at creation) only
    rig.service.process(a_form_event(email=EMAIL, title="CTO"))
    rig.service.process(a_form_event(email=EMAIL, form_id="demo-request", title="CTO"))
    assert asked == ["gone@example.com", EMAIL]


@given(total=st.decimals(min_value=-1000, max_value=1000, places=2), lead=st.text(min_size=1, max_size=30))
def test_a_cursor_opens_to_what_was_signed(total: object, lead: str) -> None:
    position = {"t": str(total), "id": lead}
    assert open_cursor(sign_cursor(position, "q1", KEY), "q1", KEY) == position


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # the MAC
        lambda c: ("e" if c[0] != "e" else "f") + c[1:],  # the position
        lambda c: c.partition(".")[0],  # no MAC
        lambda c: "not a cursor",
        lambda c: "",
    ],
)
def test_a_tampered_cursor_is_refused(tamper: object) -> None:
    cursor = sign_cursor({"t": "75", "id": "abc"}, "q1", KEY)
    with pytest.raises(ForgedCursor):
        open_cursor(tamper(cursor), "q1", KEY)  # type: ignore[operator]


def test_a_cursor_of_another_query_or_key_is_refused() -> None:
    cursor = sign_cursor({"t": "75", "id": "abc"}, "q1", KEY)
    with pytest.raises(ForgedCursor, match="another query"):
        open_cursor(cursor, "q2", KEY)
    with pytest.raises(ForgedCursor):
        open_cursor(cursor, "q1", cursor_key(b"another pepper"))
