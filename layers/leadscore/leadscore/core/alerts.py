"""The sales alert, written for a salesperson: who, how good a fit, why, and what they did lately."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from leadscore.core.rules import ZERO, CompiledModel
from leadscore.core.stages import band_for
from leadscore.core.state import PendingAlert, ScoreState
from leadscore.models.events import Scalar

SUBJECT_LIMIT = 100  # SNS rejects longer subjects
TOP_REASONS = 5
RECENT_EVENTS = 5


@dataclass(frozen=True, slots=True)
class AlertMessage:
    alert_id: str
    subject: str
    body: str
    attributes: Mapping[str, str | Decimal]  # model, stage, band, score, alert_id (for subscriber filters)
    lead_id: str = ""  # whose outbox the alert sits in (the sender clears it once SNS has the alert)
    model_id: str = ""


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _percent(probability: Decimal) -> str:
    return f"{probability * 100:.0f}%"


def _probability_line(state: ScoreState, model: CompiledModel) -> str:
    served = model.predictive
    stage = f", predictive stage {state.p_stage.value}" if state.p_stage is not None else ""
    version = f" (artefact {served.version})" if served is not None else ""
    return f"{_percent(state.probability or ZERO)} likely to convert{stage}{version}"


def _display(profile: Mapping[str, Scalar], key: str) -> str:
    value = profile.get(key)
    return "" if value is None else str(value).strip()


def _one_line(text: str) -> str:
    """SNS refuses a subject with line breaks or control characters (then the alert could never go out)."""
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def lead_name(profile: Mapping[str, Scalar]) -> str:
    name = " ".join(part for part in (_display(profile, "first_name"), _display(profile, "last_name")) if part)
    return name or _display(profile, "name") or "Unnamed lead"


def compose_alert(
    state: ScoreState,
    pending: PendingAlert,
    model: CompiledModel,
    profile: Mapping[str, Scalar],
    email: str | None,
) -> AlertMessage:
    """Subject: name, company, score. Body: title, size, stage, band, top reasons, recent activity.

    A predictive alert (the model's probability reached its SQL stage, `predictive: alerts: true`) says so
    in its subject and first line; any alert shows the probability and its top factors when they exist.
    """
    name = lead_name(profile)
    company = _display(profile, "company")
    score = _number(state.total)  # as delivered; a retried alert may include later activity
    band = band_for(state.fit, state.engagement, model.model)
    who = f"{name}{f' ({company})' if company else ''}"
    if pending.predictive and state.probability is not None:
        subject = _one_line(f"Likely to convert ({_percent(state.probability)}): {who} - score {score}")
    else:
        subject = _one_line(f"Sales-ready lead: {who} - score {score}")
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"

    size = state.attributes.get("company_size") or _display(profile, "company_size")
    facts = [
        ("Score", f"{score}  (fit {_number(state.fit)}, engagement {_number(state.engagement)})"),
        ("Stage", f"{pending.stage.value} (sales threshold {_number(model.model.thresholds.sql)})"),
        ("Band", f"{band}  (fit A-C, engagement 1-3)"),
        ("Title", _display(profile, "job_title") or str(state.attributes.get("job_title", "")) or "-"),
        ("Company", company or "-"),
        ("Company size", f"{_number(size)} employees" if isinstance(size, Decimal) else (size or "-")),
        ("Industry", _display(profile, "industry") or "-"),
        ("Country", _display(profile, "country") or "-"),
        ("Email", email or "-"),
    ]
    if state.probability is not None:
        facts.insert(1, ("Probability", _probability_line(state, model)))
    width = max(len(label) for label, _ in facts)
    if pending.predictive:
        first = (
            f"Predictive alert: {name} is now likely to convert under the '{model.model.name}' model "
            "(a probability learned from your outcomes; the rule score is below)."
        )
    else:
        first = f"{name} just became sales-ready under the '{model.model.name}' model."
    lines = [first, ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in facts]
    if state.p_factors:
        from leadscore.predictive.words import stored_factor_label  # noqa: PLC0415 - only a model with a block

        lines += ["", "Why the probability"]
        lines += [
            f"  {'+' if factor.contribution >= 0 else '-'} {stored_factor_label(factor, model.descriptions)}"
            for factor in state.p_factors
        ]
    lines += ["", "Top reasons"]
    reasons = sorted(
        ((points, rule) for rule, points in state.points.items() if points != ZERO),
        key=lambda item: (-abs(item[0]), item[1]),
    )[:TOP_REASONS]
    lines += [f"  {points:+}  {model.descriptions.get(rule, rule)}".replace("+-", "-") for points, rule in reasons]
    lines += ["", "Recent activity"]
    for activity in state.recent()[:RECENT_EVENTS]:
        day = datetime.strptime(f"{activity.last_day:06d}", "%y%m%d").replace(tzinfo=UTC).strftime("%a %d %b %Y")
        label = model.descriptions.get(activity.rule_id, activity.rule_id.replace("_", " "))
        times = f" ({activity.count} times)" if activity.count > 1 else ""
        lines.append(f"  {day}  {label}{times}")
    lines += ["", f"Model {model.id} v{model.version} · alert {pending.alert_id}"]
    return AlertMessage(
        alert_id=pending.alert_id,
        subject=subject,
        body="\n".join(lines),
        attributes={
            "model": model.id,
            "stage": pending.stage.value,
            "band": band,
            "score": state.total,
            "alert_id": pending.alert_id,
            **({"kind": "predictive"} if pending.predictive else {}),  # absent: a rule alert
            **({} if state.probability is None else {"probability": state.probability}),
        },
        lead_id=state.lead_id,
        model_id=model.id,
    )
