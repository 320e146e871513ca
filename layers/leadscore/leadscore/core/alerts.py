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
    """Subject: name, company, score. Body: title, size, stage, band, top reasons, recent activity."""
    name = lead_name(profile)
    company = _display(profile, "company")
    score = _number(state.total)  # as delivered; a retried alert may include later activity
    band = band_for(state.fit, state.engagement, model.model)
    subject = _one_line(f"Sales-ready lead: {name}{f' ({company})' if company else ''} - score {score}")
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
    width = max(len(label) for label, _ in facts)
    lines = [f"{name} just became sales-ready under the '{model.model.name}' model.", ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in facts]
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
        },
        lead_id=state.lead_id,
        model_id=model.id,
    )
