"""evaluate() and the report on the hand-checked ledger (expected values: tests/unit/ledger_sample.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation.advice import advise_mql_threshold, advise_sql_threshold
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.report import render_html, summary
from leadscore_cli.evaluation.results import Evaluation, evaluate
from tests.unit.ledger_sample import write_ledger

MODEL = load_model_file(Path(__file__).resolve().parents[2] / "scoring" / "default.yaml")


@pytest.fixture
def evaluation(tmp_path: Path) -> Evaluation:
    return evaluate(DuckDBEngine(write_ledger(tmp_path), Scope("default")), MODEL, oracle={"L1": 0.9, "L4": 0.6,
                    "L2": 0.2, "L3": 0.1, "L5": 0.3})  # fmt: skip


def test_headline_numbers(evaluation: Evaluation) -> None:
    e = evaluation
    assert [row.lead_id for row in e.leads] == ["L1", "L2", "L3", "L4", "L5"]
    assert e.auc == pytest.approx(0.75)  # ranks: positives 5 + 2.5 → U 4.5 of 6
    assert e.oracle_auc == 1.0  # 0.9 and 0.6 above 0.3, 0.2, 0.1
    assert e.auc_won == pytest.approx(1.0)  # only L1 won, and it has the top score
    assert (e.at_mql.precision, e.at_mql.recall) == (0.5, 1.0)
    assert (e.at_sql.precision, e.at_sql.recall) == (1.0, 0.5)
    assert e.base_rate == pytest.approx(0.4)
    assert (e.weeks, e.mql_per_week, e.sql_per_week) == (5, pytest.approx(0.8), pytest.approx(0.2))
    assert (e.to_sql.leads, e.to_sql.median) == (1, 4.0)
    # Revenue: L1 won 12,000 (L4's deal was lost); the top 30 % is ceil(1.5) = 2 leads: L1 and L2
    assert (e.revenue_won, e.revenue_in_top_30) == (12000.0, 1.0)


def test_conversion_by_band_and_by_stage(evaluation: Evaluation) -> None:
    # L1 B1 (25, 65), L2 B2 (15, 30), L3 C3 (10, 0), L4 A3 (35, 5), L5 C2 (5, 35)
    assert {band: (r.leads, r.converted) for band, r in evaluation.by_band.items()} == {
        "A3": (1, 1), "B1": (1, 1), "B2": (1, 0), "C2": (1, 0), "C3": (1, 0),
    }  # fmt: skip
    assert evaluation.cells[("A", "3")].rate == 1.0
    assert {c.stage: (c.leads, c.accepted, c.rejected, c.won) for c in evaluation.calibration} == {
        "LEAD": (1, 0, 0, 0), "MQL": (3, 1, 1, 0), "SQL": (1, 1, 0, 1),
    }  # fmt: skip


def test_rule_lift(evaluation: Evaluation) -> None:
    lifts = {rule.rule: rule for rule in evaluation.rules}
    assert lifts["pricing_interest"].lift == pytest.approx((1 / 3) / (1 / 2))
    assert lifts["whitepaper"].lift == pytest.approx(1 / (1 / 4))
    assert lifts["webinar"].lift == 0.0
    assert lifts["email_open:automated"].lift == 0.0


def test_threshold_advice_and_its_backtest(evaluation: Evaluation) -> None:
    # Peaks 90, 45, 10, 40, 40 over 5 weeks. MQL 45 → L1, L2: 0.4 a week (target 0.5); MQL 40 → 4: 0.8
    mql = advise_mql_threshold(evaluation.leads, MODEL, target_per_week=0.5, weeks=5, auc=evaluation.auc)
    assert (mql.current, mql.advised) == ("40", "45")
    assert (mql.before.mql_per_week, mql.after.mql_per_week) == (pytest.approx(0.8), pytest.approx(0.4))
    assert mql.before.auc == mql.after.auc == pytest.approx(0.75)
    # SQL 75: L1 only (accepted): 100 %; SQL 45 → L1, L2: 50 %. Target 50 % → the lowest above MQL: 45
    sql = advise_sql_threshold(evaluation.leads, MODEL, target_acceptance=0.5, weeks=5, auc=evaluation.auc,
                               min_leads=1)  # fmt: skip
    assert (sql.current, sql.advised) == ("75", "45")
    assert (sql.before.acceptance, sql.after.acceptance) == (1.0, 0.5)
    assert (sql.before.sql_per_week, sql.after.sql_per_week) == (pytest.approx(0.2), pytest.approx(0.4))
    # A target nothing reaches: the best available, and the reason says so
    strict = advise_sql_threshold(evaluation.leads, MODEL, target_acceptance=1.0, weeks=5, auc=None, min_leads=2)
    assert strict.advised == "45"
    assert "no threshold reaches" in strict.reason


def test_summary_puts_the_headline_first(evaluation: Evaluation) -> None:
    text = summary(evaluation)
    lines = text.splitlines()
    assert lines[0].startswith("Evaluation of model default")
    assert "Leads evaluated" in lines[1]
    assert "ROC AUC (accepted)" in lines[2]
    assert "0.75" in lines[2]
    assert "Athena scanned" not in text
    # On Athena the summary says what the queries scanned (what Athena bills): 2.5 GB at 5 USD per TB
    evaluation.extra["athena_scanned_bytes"] = 2_500_000_000
    assert "Athena scanned 2,500.0 MB (about 0.0125 USD)" in summary(evaluation)


def test_the_html_report_is_self_contained(evaluation: Evaluation) -> None:
    html = render_html(evaluation)
    # Charts are inline SVG: lift by decile, gains, band grid, weekly volume, calibration
    assert html.count("<svg") == 5
    # Nothing is fetched: no script, no stylesheet or image link, no external URL in src/href
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html.lower()
    # Every chart is followed by what it means and what to do
    assert html.count("What to do:") >= 5
    assert html.index("ROC AUC") < html.index("<svg")  # headline numbers first
