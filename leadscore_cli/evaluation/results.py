"""evaluate(): run the shared queries on an engine and turn their rows into every number the report shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from leadscore.core.stages import band_for
from leadscore.models.scoring_model import Band, ScoringModel
from leadscore_cli.evaluation.engines import Engine
from leadscore_cli.evaluation.metrics import (
    Decile,
    LeadRow,
    PrecisionRecall,
    Rate,
    RuleLift,
    Spread,
    StageCalibration,
    calibration_by_stage,
    conversion_by,
    days_to_sql,
    fill_weeks,
    lift_by_decile,
    precision_recall,
    roc_auc,
    rule_lift,
    share_in_top,
    week_start,
)

Progress = Callable[[str], None]


@dataclass
class Evaluation:
    model_id: str
    model_version: str
    engine: str
    leads: list[LeadRow]
    auc: float | None
    auc_won: float | None
    at_mql: PrecisionRecall
    at_sql: PrecisionRecall
    by_band: dict[str, Rate]
    cells: dict[tuple[str, str], Rate]
    calibration: list[StageCalibration]
    deciles: list[Decile]
    weekly: list[tuple[datetime, int, int]]
    to_sql: Spread
    rules: list[RuleLift]
    fit_bands: list[str]
    engagement_bands: list[str]
    oracle_auc: float | None = None
    revenue_won: float = 0.0
    revenue_in_top_30: float | None = None  # share of the revenue won by the best-scored 30 % of leads
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return sum(1 for row in self.leads if row.accepted)

    @property
    def base_rate(self) -> float | None:
        return self.accepted / len(self.leads) if self.leads else None

    @property
    def weeks(self) -> int:
        return max(len(self.weekly), 1)

    @property
    def mql_per_week(self) -> float:
        return sum(mql for _, mql, _ in self.weekly) / self.weeks

    @property
    def sql_per_week(self) -> float:
        return sum(sql for _, _, sql in self.weekly) / self.weeks

    @property
    def top_decile_lift(self) -> float | None:
        return self.deciles[0].lift if self.deciles else None


def lead_row(raw: Mapping[str, Any]) -> LeadRow:
    return LeadRow(
        lead_id=raw["lead_id"],
        first_touch_at=raw["first_touch_at"],
        fit=float(raw["fit"] or 0),
        engagement=float(raw["engagement"] or 0),
        total=float(raw["total"] or 0),
        peak_total=float(raw["peak_total"] or 0),
        stage=raw["stage"] or "LEAD",
        reached_mql=bool(raw["reached_mql"]),
        reached_sql=bool(raw["reached_sql"]),
        first_sql_at=raw["first_sql_at"],
        first_mql_at=raw["first_mql_at"],
        outcome_at=raw["outcome_at"],
        accepted=bool(raw["accepted"]),
        rejected=bool(raw["rejected"]),
        won=bool(raw["won"]),
        won_amount=float(raw["won_amount"] or 0),
        reject_reason=raw["reject_reason"],
    )


def band_of(row: LeadRow, model: ScoringModel) -> str:
    """The lead's band as the model names it (e.g. 'A1'), from its fit and engagement at evaluation time."""
    return band_for(Decimal(str(row.fit)), Decimal(str(row.engagement)), model)


def _band_name(score: float, bands: list[Band]) -> str:
    for band in bands:  # listed from the highest min; the last one catches the rest (as the core does)
        if band.min is None or Decimal(str(score)) >= band.min:
            return band.name
    return bands[-1].name


def band_cells(rows: list[LeadRow], model: ScoringModel) -> dict[tuple[str, str], Rate]:
    """Conversion per (fit band, engagement band) cell of the model's grid."""
    cells: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        key = (_band_name(row.fit, model.bands.fit), _band_name(row.engagement, model.bands.engagement))
        cell = cells.setdefault(key, [0, 0])
        cell[0] += 1
        cell[1] += int(row.accepted)
    return {key: Rate(*value) for key, value in sorted(cells.items())}


def evaluate(
    engine: Engine,
    model: ScoringModel,
    *,
    oracle: Mapping[str, float] | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Every metric of the report for `model`'s records, computed from the engine's query results.

    `oracle` (lead id -> true probability, known only for a simulated population) adds the oracle AUC: the
    best any model could do on these leads.
    """
    say = progress or (lambda _step: None)
    say("lead outcomes")
    leads = [lead_row(raw) for raw in engine.query("lead_outcomes")]
    say("weekly volume")
    weekly_rows = engine.query("weekly_volume")
    say("rule hits")
    hit_rows = engine.query("rule_hits")
    labels = [row.accepted for row in leads]
    scores = [row.total for row in leads]
    weeks = {week_start(row["week"]): (int(row["new_mql"]), int(row["new_sql"])) for row in weekly_rows}
    accepted = sum(labels)
    oracle_auc = None
    if oracle is not None:
        known = [row for row in leads if row.lead_id in oracle]
        oracle_auc = roc_auc([oracle[row.lead_id] for row in known], [row.accepted for row in known])
    return Evaluation(
        model_id=model.id,
        model_version=model.version,
        engine=engine.name,
        leads=leads,
        auc=roc_auc(scores, labels),
        auc_won=roc_auc(scores, [row.won for row in leads]),
        at_mql=precision_recall([row.reached_mql for row in leads], labels),
        at_sql=precision_recall([row.reached_sql for row in leads], labels),
        by_band=conversion_by(leads, lambda row: band_of(row, model)),
        cells=band_cells(leads, model),
        calibration=calibration_by_stage(leads),
        deciles=lift_by_decile(scores, labels),
        weekly=fill_weeks(weeks),
        to_sql=days_to_sql(leads),
        rules=rule_lift(
            ((row["rule"], int(row["leads"]), int(row["accepted"]), float(row["points"] or 0)) for row in hit_rows),
            leads=len(leads),
            converted=accepted,
        ),
        fit_bands=[band.name for band in model.bands.fit],
        engagement_bands=[band.name for band in model.bands.engagement],
        oracle_auc=oracle_auc,
        revenue_won=sum(row.won_amount for row in leads),
        revenue_in_top_30=share_in_top(scores, [row.won_amount for row in leads], 0.3),
    )
