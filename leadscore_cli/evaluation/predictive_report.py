"""The predictive model in the evaluation's terminal summary and HTML report, side by side with the rules.

Same style as report.py: headline numbers first, one chart per question (inline SVG), under each chart one
sentence on what it means and one on what to do.
"""

from __future__ import annotations

import textwrap
from html import escape

from leadscore_cli.evaluation.drift import SHIFTED, STABLE, Drift, Shift
from leadscore_cli.evaluation.predictive import PredictiveEvaluation
from leadscore_cli.evaluation.report import _explain, _table, num, pct
from leadscore_cli.evaluation.results import Evaluation
from leadscore_cli.evaluation.svg import bar_chart, calibration_chart, line_chart

TOP_SHIFTED = 5
CHART_FEATURES = 6  # bars whose names still fit under them; the table lists ten
ECE_BAR = 0.05  # issue 14's bar for a probability that can be read as a chance
STAGE_NOTE = (
    "At MQL/SQL: the rules count the leads that reached the stage before their outcome, the predictive model "
    "the leads whose probability was at or above the stage's at that moment"
)


def _pr(flagged: int, precision: float | None, recall: float | None) -> str:
    return f"precision {pct(precision)}, recall {pct(recall)} ({flagged:,} leads)"


def comparison(e: Evaluation, p: PredictiveEvaluation) -> list[tuple[str, str, str]]:
    """(measure, rule model, predictive model) on the same leads."""
    mql, sql = p.stages
    rows = [
        ("ROC AUC (accepted)", num(e.auc), num(p.auc)),
        ("ROC AUC (won)", num(e.auc_won), num(p.auc_won)),
        ("Top-decile lift", f"{num(e.top_decile_lift, 1)}x", f"{num(p.top_decile_lift, 1)}x"),
        ("Revenue from the best 30%", pct(e.revenue_in_top_30), pct(p.revenue_in_top_30)),
        (
            "At MQL",
            _pr(e.at_mql.flagged, e.at_mql.precision, e.at_mql.recall),
            f"p ≥ {mql:g}: " + _pr(p.at_mql.flagged, p.at_mql.precision, p.at_mql.recall),
        ),
        (
            "At SQL",
            _pr(e.at_sql.flagged, e.at_sql.precision, e.at_sql.recall),
            f"p ≥ {sql:g}: " + _pr(p.at_sql.flagged, p.at_sql.precision, p.at_sql.recall),
        ),
        ("Calibration error (ECE)", "n/a (points are not a probability)", num(p.ece, 3)),
    ]
    if e.oracle_auc is not None:
        rows.insert(1, ("Oracle AUC (true probabilities)", num(e.oracle_auc), num(e.oracle_auc)))
    return rows


def retrain_advice(p: PredictiveEvaluation) -> list[str]:
    """What to do about the predictive model, from its drift and calibration."""
    advice = []
    d = p.drift
    if d is not None and d.probability is not None and d.retrain:
        names = ", ".join(item.name for item in d.shifted_features(SHIFTED)[:3]) or "no single feature"
        advice.append(
            f"retrain {p.name}: the probability's distribution shifted (PSI {d.probability.psi:.2f} > {SHIFTED:g}; "
            f"most shifted: {names}). Run `leadscore train --model {p.base_model}` on the recent ledger, evaluate "
            "the new artefact with --predictive, then deploy it"
        )
    elif d is not None and d.shifted_features(SHIFTED):
        names = ", ".join(item.name for item in d.shifted_features(SHIFTED)[:3])
        advice.append(
            f"watch {p.name}: features shifted (PSI > {SHIFTED:g}: {names}) but the probability has not yet; "
            "evaluate again next month"
        )
    # The model's own target (converted within the horizon) on recent snapshots, else the evaluation's
    ece, where = (d.ece, "on recent snapshots") if d is not None and d.ece is not None else (p.ece, "")
    if ece is not None and ece > ECE_BAR and not (d is not None and d.retrain):
        advice.append(
            f"recalibrate {p.name}: its calibration error {where} is {ece:.3f} (bar: {ECE_BAR:g}); retraining on "
            "recent outcomes refits the calibration"
        )
    return advice


def _calibration_now(d: Drift, horizon_days: int) -> str:
    if not d.judged:
        return f"no snapshot is {horizon_days} days old yet: conversion not known"
    return (
        f"mean predicted {pct(d.mean_predicted)} vs {pct(d.observed)} converted within {horizon_days} days, "
        f"ECE {num(d.ece, 3)} ({d.judged:,} snapshots old enough to tell)"
    )


def _drift_lines(d: Drift, horizon_days: int) -> list[str]:
    lines = [f"  Drift now: {d.window}"]
    if d.probability is not None:
        lines.append(
            f"  Score drift (PSI of the probability): {d.probability.psi:.3f}, {d.probability.reading}; "
            + _calibration_now(d, horizon_days)
        )
    if d.features:
        top = ", ".join(f"{item.name} {item.psi:.2f}" for item in d.top(TOP_SHIFTED))
        moved = len(d.shifted_features(STABLE))
        lines.append(f"  Feature drift (PSI): {moved} of {len(d.features)} features moved ≥ {STABLE:g}; top: {top}")
    return lines


def summary_lines(e: Evaluation, p: PredictiveEvaluation) -> list[str]:
    """The predictive block of the terminal summary."""
    lines = [f"Predictive model {p.name} {p.version} (on {p.base_model} {p.base_model_version}), same leads:"]
    rows = [("", "rules", "predictive"), *comparison(e, p)]
    width = max(len(label) for label, _, _ in rows)
    rule_width = max(len(rule) for _, rule, _ in rows)
    lines += [f"  {label.ljust(width)}  {rule.ljust(rule_width)}  {pred}" for label, rule, pred in rows]
    lines += textwrap.wrap(f"({STAGE_NOTE})", width=110, initial_indent="  ", subsequent_indent="   ")
    if p.drift is not None:
        lines += _drift_lines(p.drift, p.horizon_days)
    else:
        lines.append("  Drift: the artefact has no drift_reference")
    lines += [f"  Note: {note}" for note in p.notes]
    lines += [f"  Advice: {item}" for item in retrain_advice(p)]
    return lines


def html_section(e: Evaluation, p: PredictiveEvaluation) -> list[str]:
    """The report's "Predictive model" section."""
    parts = [
        "<h2 id='predictive'>Predictive model</h2>",
        f"<p class='sub'>{escape(p.name)} {escape(p.version)} · trained on {escape(p.base_model)} "
        f"{escape(p.base_model_version)}"
        + (f" at {escape(p.trained_at)}" if p.trained_at else "")
        + f" · {escape(p.source)} · scored on the same {len(p.lead_ids):,} leads at the same moments</p>",
        _table(["", "rule model", "predictive model"], [list(row) for row in comparison(e, p)]),
    ]
    parts.append(f"<p class='means'>{escape(STAGE_NOTE)}.</p>")
    parts += [f"<p class='means'>{escape(note)}.</p>" for note in p.notes]
    parts += _gains_part(e, p) + _calibration_part(p) + _stage_part(p) + _drift_part(p)
    advice = retrain_advice(p)
    parts.append(
        "<h3>Advice on the predictive model</h3>"
        + ("".join(f"<p class='todo'><strong>Advice:</strong> {escape(item)}.</p>" for item in advice)
           or "<p>Stable and calibrated: keep it; evaluate again when a month of new outcomes is in.</p>")
    )  # fmt: skip
    return parts


def _gains_part(e: Evaluation, p: PredictiveEvaluation) -> list[str]:
    labels = [f"D{d.decile}" for d in p.deciles]
    rules = [d.cumulative_share_of_conversions or 0.0 for d in e.deciles]
    learned = [d.cumulative_share_of_conversions or 0.0 for d in p.deciles]
    better = (p.auc or 0.0) > (e.auc or 0.0)
    return [
        "<h3>Which ranks buyers better?</h3>",
        line_chart(labels, [("rule model", rules), ("predictive model", learned)],
                   title="Cumulative gains: share of accepted leads found in the best-ranked deciles", y_label="found",
                   percent=True, diagonal=True),
        _explain(
            f"AUC {num(p.auc)} for the predictive model against {num(e.auc)} for the rules"
            + (f" (the best possible here: {num(e.oracle_auc)})" if e.oracle_auc is not None else "")
            + "; the higher curve finds more accepted leads in the same number of calls.",
            "Route sales by the probability (side by side with the stage) if its curve is clearly above the rules'; "
            "if not, keep the rules in charge and retrain when more outcomes are in."
            if better else "The rules rank at least as well: keep them in charge, and retrain when more outcomes "
            "are in before relying on the probability.",
        ),
    ]  # fmt: skip


def _calibration_part(p: PredictiveEvaluation) -> list[str]:
    points = [(item.predicted or 0.0, item.observed or 0.0, item.leads) for item in p.calibration if item.leads]
    rows = [[f"{item.low:.0%} to {item.high:.0%}", f"{item.leads:,}", pct(item.predicted), pct(item.observed)]
            for item in p.calibration if item.leads]  # fmt: skip
    return [
        "<h3>Does a 30% lead convert 30% of the time? (calibration)</h3>",
        calibration_chart(points, title="Observed acceptance against predicted probability, per 10-point bin"),
        _explain(
            f"Each dot is the leads whose probability (at their evaluation moment) fell in one 10-point bin, "
            f"against the share sales accepted; on the dashed diagonal the probability means what it says. "
            f"Calibration error (ECE, the leads-weighted gap): {num(p.ece, 3)}"
            + (
                f"; on the model's own target (converted within {p.horizon_days} days of a recent snapshot): "
                f"{num(p.drift.ece, 3)}."
                if p.drift is not None and p.drift.ece is not None
                else "."
            ),
            "Below 0.05 the probability can be read as a chance and used for forecasts; dots below the diagonal "
            "mean it promises too much, above it too little: retrain on recent outcomes to recalibrate.",
        ),
        _table(["probability", "leads", "mean predicted", "observed"], rows),
    ]


def _stage_part(p: PredictiveEvaluation) -> list[str]:
    stages = [(stage, rate) for stage, rate in p.by_stage.items() if rate.leads]
    mql, sql = p.stages
    return [
        "<h3>Conversion by probability band</h3>",
        bar_chart([_stage_label(stage, p.stages) for stage, _ in stages], [rate.rate or 0.0 for _, rate in stages],
                  title="Acceptance rate by probability stage at the time of the outcome", y_label="accepted",
                  percent=True),
        _explain(
            ", ".join(f"{stage}: {pct(rate.rate)} of {rate.leads:,}" for stage, rate in stages) + ".",
            f"Acceptance should rise from LEAD to SQL. Move the `predictive: stages:` of the model (now MQL {mql:g}, "
            f"SQL {sql:g}) to the probability at which sales wants the leads.",
        ),
    ]  # fmt: skip


def _drift_part(p: PredictiveEvaluation) -> list[str]:
    d = p.drift
    parts = ["<h3>Has the population moved since training? (drift)</h3>"]
    if d is None:
        return [*parts, "<p>The artefact carries no drift reference: retrain it with a current trainer.</p>"]
    if d.probability is not None:
        bins = [_bin_label(d.probability, index) for index in range(len(d.probability.reference))]
        parts.append(line_chart(bins, [("at training", list(d.probability.reference)),
                                       ("now", list(d.probability.current))],
                                title="Share of leads per probability bin, at training and now", y_label="leads",
                                percent=True))  # fmt: skip
        parts.append(_explain(
            f"Now: {d.window}, each lead as the training examples saw theirs. PSI of the probability "
            f"{d.probability.psi:.3f} ({d.probability.reading}); {_calibration_now(d, p.horizon_days)}.",
            f"Below {STABLE:g} nothing to do; {STABLE:g} to {SHIFTED:g}, evaluate again next month; above "
            f"{SHIFTED:g}, retrain on the recent ledger.",
        ))  # fmt: skip
    top = d.top(10)
    if top:
        shown = top[:CHART_FEATURES]
        parts.append(bar_chart([_short(item.name) for item in shown], [item.psi for item in shown],
                               title="Most shifted features (PSI, training against now)", y_label="PSI",
                               reference=SHIFTED, reference_label=f"retrain above {SHIFTED:g}"))  # fmt: skip
        parts.append(_explain(
            f"{len(d.shifted_features(STABLE))} of {len(d.features)} features moved by {STABLE:g} or more. "
            "A shifted feature means the leads coming in now differ from those the model learned from "
            "(a new campaign, a changed page, a new market).",
            "If a shifted feature is one of the model's strongest, retrain even when the probability has not "
            "moved yet; if it comes from a tracking change (a page renamed), fix the tracking first.",
        ))  # fmt: skip
        parts.append(_table(["feature", "PSI", "reading"], [[i.name, f"{i.psi:.3f}", i.reading] for i in top]))
    return parts


def _bin_label(item: Shift, index: int) -> str:
    """A probability bin by its upper edge ("< 2.1%"; the last bin "≥" its lower edge), two significant digits."""
    edges = item.edges
    bins = len(item.reference)
    upper = index + 1 if len(edges) == bins + 1 else index
    if upper >= len(edges):
        return f"≥ {_percent(edges[-1])}"
    return f"< {_percent(edges[upper])}" if index < bins - 1 else f"≥ {_percent(edges[upper - 1])}"


def _percent(value: float) -> str:
    return f"{value * 100:.2g}%"


def _short(name: str, width: int = 13) -> str:
    """A feature name that fits under its bar (the table below gives it whole)."""
    name = name.removeprefix("eng:")
    return name if len(name) <= width else name[: width - 1] + "…"


def _stage_label(stage: str, stages: tuple[float, float]) -> str:
    mql, sql = stages
    return f"LEAD (p < {mql:g})" if stage == "LEAD" else f"{stage} (p ≥ {mql if stage == 'MQL' else sql:g})"
