"""Half-life advice: the search picks the half-life whose replay ranks outcomes best, and backtests it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import HalfLife, ScoringModel
from leadscore_cli.evaluation.advice import (
    Backtest,
    current_half_life,
    decayable_rules,
    half_life_tries,
    search_half_lives,
    with_half_life,
)

MODEL = load_model_file(Path(__file__).resolve().parents[2] / "scoring" / "default.yaml")


def test_with_half_life_changes_one_rule_and_the_version() -> None:
    changed = with_half_life(MODEL, "pricing_interest", 30)
    assert changed.decay is not None
    assert changed.decay.rules["pricing_interest"] == HalfLife(half_life_days=Decimal(30))
    assert current_half_life(MODEL, "pricing_interest") == 14
    assert current_half_life(changed, "email_click") == current_half_life(MODEL, "email_click") == 21
    assert current_half_life(MODEL, "webinar") == 30  # the model's default half-life
    assert current_half_life(MODEL, "newsletter") is None  # a step penalty, not a half-life
    assert changed.version != MODEL.version


def test_decayable_rules_are_the_half_life_rules_giving_most_points() -> None:
    points = {"pricing_interest": 500.0, "demo_request": 900.0, "newsletter": 1000.0, "email_open": 10.0}
    # newsletter fades by steps (no half-life to search); rules without points are left out
    assert decayable_rules(MODEL, points, limit=2) == ["demo_request", "pricing_interest"]


def test_the_search_keeps_a_better_half_life_and_backtests_them_together() -> None:
    # Given a scorer whose AUC peaks at pricing_interest 60 days and ignores demo_request's half-life
    calls: list[str] = []

    def score(model: ScoringModel) -> tuple[float | None, Backtest]:
        calls.append(model.version)
        days = current_half_life(model, "pricing_interest") or 0
        auc = 0.70 + (0.05 if days == 60 else 0.0)
        return auc, Backtest(mql_per_week=10 - days / 30, sql_per_week=2, acceptance=0.3 + days / 1000, auc=auc)

    # When
    search = search_half_lives(MODEL, ["pricing_interest", "demo_request"], score, grid=(7, 14, 60))
    # Then: pricing_interest → 60 days; demo_request stays (no better AUC); one baseline, 2 + 3 tries, 1 combined
    assert search.chosen == {"pricing_interest": 60}
    assert search.tried["pricing_interest"] == {14: 0.70, 7: 0.70, 60: 0.75}
    assert len(calls) == 1 + 2 + 3 + 1 == half_life_tries(MODEL, ["pricing_interest", "demo_request"], (7, 14, 60))
    advice = search.advice
    assert advice is not None
    assert (advice.current, advice.advised) == ("pricing_interest 14 d", "pricing_interest 60 d")
    assert (advice.before.auc, advice.after.auc) == (0.70, 0.75)
    assert advice.after.mql_per_week == 8.0


def test_no_advice_when_nothing_beats_the_current_half_lives() -> None:
    def flat(model: ScoringModel) -> tuple[float | None, Backtest]:
        return 0.7, Backtest(1, 1, 0.5, 0.7)

    search = search_half_lives(MODEL, ["pricing_interest"], flat, grid=(7, 60))
    assert search.chosen == {}
    assert search.advice is None
