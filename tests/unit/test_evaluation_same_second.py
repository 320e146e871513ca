"""The rule evaluation's SQL orders a lead's events of one second by the scorer's `sequence` (C2 v2).

The score a lead had before its outcome is its newest record's; when two records share a second (a form and
the page view it came from, a batch imported at once), "newest" is the one the scorer applied last, which
the file order and the event ids do not tell. Only that choice depends on same-second order: every other
figure of the queries is a min, max, count or sum over a lead's records (first MQL/SQL times, peak total,
reached stages, rule hits, weekly firsts), the same whatever the order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from tests.unit.ledger_sample import same_second_records, write_ledger


@pytest.fixture
def rows(tmp_path: Path) -> dict[str, dict[str, object]]:
    engine = DuckDBEngine(write_ledger(tmp_path, same_second_records()), Scope("default"))
    return {str(row["lead_id"]): row for row in engine.query("lead_outcomes")}


def test_the_score_before_the_outcome_is_the_last_applied_of_one_second(rows: dict[str, dict[str, object]]) -> None:
    # Given S1's two records of one second, written s1-a (applied second) then s1-b (applied first), and its
    # acceptance three days later
    # When the lead's score before its outcome is picked
    s1 = rows["S1"]
    # Then it is s1-a's (version 2), not s1-b's (the higher event id, the last line of the file)
    assert (s1["total"], s1["stage"], s1["engagement"], s1["accepted"]) == (60, "MQL", 40, 1)


def test_the_highest_sequence_wins_whatever_the_file_order(rows: dict[str, dict[str, object]]) -> None:
    # Given S2's records, written version 5 first, version 4 second
    # Then its score is version 5's
    assert (rows["S2"]["total"], rows["S2"]["stage"]) == (60, "MQL")


def test_version_1_lines_without_a_sequence_keep_the_event_id_order(rows: dict[str, dict[str, object]]) -> None:
    # Given S3's version 1 lines (no sequence) of one second
    # Then the higher event id stands for the newer, as before sequences existed
    assert (rows["S3"]["total"], rows["S3"]["stage"]) == (30, "LEAD")


def test_order_free_figures_are_unchanged(rows: dict[str, dict[str, object]]) -> None:
    # The first-crossing time, peak and event count of S1 do not depend on the order of its same-second records
    s1 = rows["S1"]
    assert (s1["peak_total"], s1["reached_mql"], s1["events"]) == (60, 1, 2)
    assert s1["first_mql_at"] == s1["first_touch_at"]
