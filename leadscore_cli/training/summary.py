"""The training report in a few lines a marketer can read (the artefact keeps the whole report)."""

from __future__ import annotations

from typing import Any


def _figure(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary(report: dict[str, Any]) -> str:
    held = report["held_out"]
    auc, ece = held["auc"], held["ece"]
    lift = held["lift_by_decile"]
    top = ", ".join(
        f"{feature['label']} ({'+' if feature['coefficient'] > 0 else '-'})" for feature in report["top_features"][:6]
    )
    margin = None if auc["predictive"] is None or auc["rules"] is None else auc["predictive"] - auc["rules"]
    margin_text = "n/a" if margin is None else f"{margin:+.3f}"
    interval = held.get("auc_margin")  # absent from artefacts trained before the interval was reported
    if interval is not None:
        low, high = interval["interval_95"]
        verdict = "a clear margin" if interval["clear"] else "not a clear margin"
        margin_text += f", 95 % interval [{low:+.3f}, {high:+.3f}] over leads: {verdict}"
    lines = [
        f"Target: {report['target']}.",
        f"Trained on {report['train']['examples']:,} examples of {report['train']['leads']:,} leads "
        f"({report['train']['converting_leads']} converting); held out {report['test']['examples']:,} examples "
        f"from {report['split']['test_reference_times_from'][:10]} ({report['test']['converting_leads']} converting).",
        f"Held-out AUC: predictive {_figure(auc['predictive'])} vs the rule model's total {_figure(auc['rules'])} "
        f"(margin {margin_text}).",
        f"Held-out calibration error (ECE): predictive {_figure(ece['predictive'])}, rule total Platt-scaled "
        f"{_figure(ece['rules_platt'])}; base rate {held['base_rate']:.3f}.",
        f"Top decile converts at {lift[0]['conversion_rate']:.3f} ({lift[0]['lift']:.1f}x the base rate)."
        if lift
        else "No held-out examples.",
        f"{report['features_used']} features, L2 C={report['regularisation']['C']}; weighs most: {top}.",
        f"Served model: {report['served_model']}.",
    ]
    return "\n".join(lines)
