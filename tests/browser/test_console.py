"""The leads console (console/) in Debian's headless Chromium against the emulated stack: sign in with the
local token, see the hot list, open a lead, record feedback, and check it through the API. The last
screenshot is kept in .artifacts/console.png (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import a_submission, post_signed

ARTIFACTS = ROOT / ".artifacts"
ADA = "ada@analytical-engines.example"


@pytest.fixture(scope="module")
def stack() -> Iterator[EmulatedStack]:
    stack = EmulatedStack(log_level="ERROR")
    post_signed(stack, a_submission())
    post_signed(stack, a_submission(submission_id="sub-2", email="grace@compilers.example", job_title="CTO"))
    stack.drain()
    stack.serve(port=0)
    yield stack
    stack.stop()


def test_sign_in_see_the_hot_list_open_a_lead_and_record_feedback(browser: Any, stack: EmulatedStack) -> None:
    assert stack.gateway is not None
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # Given the console, When the operator signs in with the local token
        page.goto(f"{stack.gateway.url}/console/")
        page.click("#signin-button")
        # Then the hot list of the default model shows both MQL leads
        page.wait_for_selector("#hot tbody tr")
        assert page.locator("#hot tbody tr").count() == 2
        assert "Ada Lovelace" in page.inner_text("#hot")  # names and companies from the profiles, not lead ids
        assert "Analytical Engines" in page.inner_text("#hot")
        # When a lead is opened, Then its page shows the score and the breakdown chart
        page.locator("#hot tbody tr").first.click()
        page.wait_for_selector("#breakdown rect")
        email = page.inner_text("#lead-email")
        assert email in {ADA, "grace@compilers.example"}
        assert page.locator("#breakdown rect").count() >= 2
        assert "whitepaper" in page.inner_text("#activity")
        # And its stage history: LEAD left when MQL was entered, MQL still open
        history = page.inner_text(".stage-history")
        assert "LEAD" in history
        assert "MQL" in history
        assert history.strip().endswith("now")
        # When sales reject it as a competitor, Then the page lists the feedback
        page.select_option("#reason", "competitor")
        page.click("#reject")
        page.wait_for_selector("#feedback li")
        assert "rejected (competitor)" in page.inner_text("#feedback")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)
    finally:
        context.close()
    assert errors == []
    # And the API says the same
    reader = stack.issuer.mint(["leads:read"])
    status, _, lead = stack.request("GET", f"/leads/{email.replace('@', '%40')}", token=reader)
    assert status == 200
    assert [(f["outcome"], f["reason"]) for f in lead["feedback"]] == [("rejected", "competitor")]
    assert Path(ARTIFACTS / "console.png").stat().st_size > 10_000
