"""Evaluation metrics on small data sets whose expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadscore_cli.evaluation.metrics import (
    LeadRow,
    Spread,
    calibration_by_stage,
    conversion_by,
    days_to_sql,
    fill_weeks,
    lift_by_decile,
    precision_recall,
    roc_auc,
    rule_lift,
    share_in_top,
    spread,
    week_start,
)


def test_auc_counts_tied_pairs_as_half() -> None:
    # Given positives scored 90 and 40, negatives 45, 10 and 40
    # Pairs won by the positive: 90 beats all 3; 40 beats 10, ties 40 (0.5), loses to 45 → 4.5 of 6.
    scores = [90.0, 45.0, 10.0, 40.0, 40.0]
    labels = [True, False, False, True, False]
    # When / Then
    assert roc_auc(scores, labels) == pytest.approx(4.5 / 6)


def test_auc_of_a_perfect_and_a_reversed_ranking() -> None:
    # Given every positive above every negative, then the opposite
    assert roc_auc([3.0, 2.0, 1.0], [True, True, False]) == 1.0
    assert roc_auc([1.0, 2.0, 3.0], [True, True, False]) == 0.0


def test_auc_when_every_score_ties_is_a_coin_toss() -> None:
    assert roc_auc([5.0, 5.0, 5.0, 5.0], [True, False, True, False]) == 0.5


def test_auc_is_undefined_with_one_class() -> None:
    assert roc_auc([1.0, 2.0], [False, False]) is None
    with pytest.raises(ValueError, match="length"):
        roc_auc([1.0], [True, False])


def test_auc_matches_counting_every_pair() -> None:
    # Given a bigger set with many ties, the rank formula must equal the pair count (definition of AUC)
    scores = [float(i % 7) for i in range(60)]
    labels = [(i * 5) % 3 == 0 for i in range(60)]
    positives = [s for s, label in zip(scores, labels, strict=True) if label]
    negatives = [s for s, label in zip(scores, labels, strict=True) if not label]
    pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    assert roc_auc(scores, labels) == pytest.approx(pairs / (len(positives) * len(negatives)))


def test_precision_and_recall() -> None:
    # Given 4 flagged of which 2 are positive, and 2 positives in all → precision 0.5, recall 1.0
    result = precision_recall([True, True, False, True, True], [True, False, False, True, False])
    assert (result.flagged, result.true_positives, result.positives) == (4, 2, 2)
    assert (result.precision, result.recall) == (0.5, 1.0)
    assert precision_recall([False], [True]).precision is None


def _lead(lead_id: str, total: float, stage: str, accepted: bool, **more: object) -> LeadRow:
    base = datetime(2026, 11, 2, 10, tzinfo=UTC)
    values: dict[str, object] = {
        "lead_id": lead_id, "first_touch_at": base, "fit": 0.0, "engagement": total, "total": total, "stage": stage,
        "reached_mql": stage != "LEAD", "reached_sql": stage == "SQL", "first_sql_at": None, "accepted": accepted,
    }  # fmt: skip
    values.update(more)
    return LeadRow(**values)  # type: ignore[arg-type]


def test_conversion_by_group_and_calibration_by_stage() -> None:
    # Given LEAD {L3: no}, MQL {L2: rejected, L4: yes, L5: no}, SQL {L1: yes, won}
    leads = [
        _lead("L1", 90, "SQL", True, won=True),
        _lead("L2", 45, "MQL", False, rejected=True),
        _lead("L3", 10, "LEAD", False),
        _lead("L4", 40, "MQL", True),
        _lead("L5", 40, "MQL", False),
    ]
    # When
    by_stage = conversion_by(leads, lambda row: row.stage)
    calibration = {item.stage: item for item in calibration_by_stage(leads)}
    # Then: MQL 1 of 3, SQL 1 of 1, LEAD 0 of 1
    assert {k: (v.leads, v.converted) for k, v in by_stage.items()} == {"LEAD": (1, 0), "MQL": (3, 1), "SQL": (1, 1)}
    assert by_stage["MQL"].rate == pytest.approx(1 / 3)
    assert (calibration["MQL"].leads, calibration["MQL"].accepted, calibration["MQL"].rejected) == (3, 1, 1)
    assert (calibration["SQL"].won, calibration["SQL"].acceptance) == (1, 1.0)
    assert calibration["LEAD"].acceptance == 0.0


def test_lift_in_five_groups() -> None:
    # Given scores 90 (yes), 45, 10, 40 (yes), 40 in five groups of one; overall rate 2/5 = 0.4
    # Sorted best first, ties in input order: 90 yes, 45 no, 40 yes (4th input), 40 no, 10 no
    deciles = lift_by_decile([90.0, 45.0, 10.0, 40.0, 40.0], [True, False, False, True, False], groups=5)
    # Then: rates 1, 0, 1, 0, 0; lifts 1/0.4 = 2.5 or 0; gains 1/2, 1/2, 2/2, 1, 1
    assert [d.rate for d in deciles] == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert [d.lift for d in deciles] == [pytest.approx(2.5), 0.0, pytest.approx(2.5), 0.0, 0.0]
    assert [d.cumulative_share_of_conversions for d in deciles] == [0.5, 0.5, 1.0, 1.0, 1.0]


def test_deciles_of_twenty_leads_hold_two_each() -> None:
    # Given 20 leads scored 20..1, the 4 best converted: overall 0.2; decile 1 and 2 convert at 1.0 (lift 5)
    scores = [float(20 - i) for i in range(20)]
    labels = [i < 4 for i in range(20)]
    deciles = lift_by_decile(scores, labels)
    assert [d.leads for d in deciles] == [2] * 10
    assert [d.converted for d in deciles] == [2, 2, 0, 0, 0, 0, 0, 0, 0, 0]
    assert deciles[0].lift == pytest.approx(5.0)
    assert lift_by_decile([], []) == []


def test_spread_uses_inclusive_quartiles() -> None:
    # Given 1..5: median 3, quartiles 2 and 4 (inclusive method: positions 1 + 0.25*4 and 1 + 0.75*4)
    assert spread([1.0, 2.0, 3.0, 4.0, 5.0]) == Spread(5, 3.0, 2.0, 4.0)
    assert spread([]) == Spread(0, None, None, None)
    assert spread([7.0]) == Spread(1, 7.0, 7.0, 7.0)


def test_days_to_sql_counts_only_leads_that_reached_it() -> None:
    # Given L1 first touched 2 Nov 10:00, SQL 6 Nov 10:00 (4 days), L2 SQL after 1.5 days, L3 never
    first = datetime(2026, 11, 2, 10, tzinfo=UTC)
    leads = [
        _lead("L1", 90, "SQL", True, first_sql_at=datetime(2026, 11, 6, 10, tzinfo=UTC)),
        _lead("L2", 80, "SQL", False, first_sql_at=datetime(2026, 11, 3, 22, tzinfo=UTC)),
        _lead("L3", 10, "LEAD", False),
    ]
    assert all(lead.first_touch_at == first for lead in leads)
    # Then: values 1.5 and 4 → median 2.75, quartiles 1.5 + 0.25*2.5 = 2.125 and 1.5 + 0.75*2.5 = 3.375
    result = days_to_sql(leads)
    assert (result.leads, result.median, result.p25, result.p75) == (2, 2.75, 2.125, 3.375)


def test_rule_lift_against_the_leads_it_did_not_hit() -> None:
    # Given 5 leads, 2 accepted; pricing hit 3 leads of which 1 accepted → 1/3 vs 1/2 (of the other 2) = 0.667
    # whitepaper hit 1 accepted lead → 1/1 vs 1/4 = 4.0; webinar 2 leads none accepted → 0 vs 2/3 = 0.0
    lifts = rule_lift(
        [("pricing_interest", 3, 1, 65.0), ("whitepaper", 1, 1, 5.0), ("webinar", 2, 0, 20.0), ("all", 5, 2, 1.0)],
        leads=5,
        converted=2,
    )
    by_rule = {item.rule: item for item in lifts}
    assert by_rule["pricing_interest"].lift == pytest.approx(2 / 3)
    assert by_rule["whitepaper"].lift == pytest.approx(4.0)
    assert by_rule["webinar"].lift == 0.0
    assert by_rule["all"].lift is None  # hit every lead: nothing to compare with
    # Sorted from most to least lift, the undefined one last
    assert [item.rule for item in lifts] == ["whitepaper", "pricing_interest", "webinar", "all"]


def test_weeks_start_on_monday_and_gaps_are_filled() -> None:
    # Given Sunday 8 Nov → week of Monday 2 Nov; weeks 2 Nov and 16 Nov with counts, 9 Nov missing
    assert week_start(datetime(2026, 11, 8, 23, 59, tzinfo=UTC)) == datetime(2026, 11, 2, tzinfo=UTC)
    filled = fill_weeks({datetime(2026, 11, 2, tzinfo=UTC): (2, 1), datetime(2026, 11, 16, tzinfo=UTC): (1, 0)})
    assert [(week.day, mql, sql) for week, mql, sql in filled] == [(2, 2, 1), (9, 0, 0), (16, 1, 0)]


def test_share_of_revenue_in_the_top_slice() -> None:
    # Given 10 leads scored 10..1 with revenue 100 on the 1st, 50 on the 4th and 50 on the 8th best
    scores = [float(10 - i) for i in range(10)]
    amounts = [100.0, 0, 0, 50.0, 0, 0, 0, 50.0, 0, 0]
    # Then: the top 30 % (3 leads) hold 100 of 200; the top 40 % hold 150 of 200
    assert share_in_top(scores, amounts, 0.3) == 0.5
    assert share_in_top(scores, amounts, 0.4) == 0.75
    assert share_in_top(scores, [0.0] * 10, 0.3) is None
