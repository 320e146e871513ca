"""Scoring-core throughput: events/s for a 50-rule model and for the shipped default model.

Printed, never asserted. Events are built before timing; the timed loop is the pure core only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadscore.core.fast_path import plan_fast_path
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import EventFacts, facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState
from leadscore.models.events import LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import ScoringModel

ROOT = Path(__file__).resolve().parents[1]
TARGET_EVENTS_PER_SECOND = 50_000


def fifty_rule_model() -> CompiledModel:
    """20 fit rules (regex, one_of, between, contains, negated) and 30 engagement rules, 10 of them capped."""
    fit: list[dict[str, Any]] = []
    for i in range(5):
        fit.append(
            {
                "id": f"title_{i}",
                "when": [{"field": "job_title", "matches": rf"\b(vp|director|head|c.o|lead{i})\b"}],
                "points": 5 + i,
            }
        )
        fit.append(
            {
                "id": f"size_{i}",
                "when": [{"field": "company_size", "between": [10 * 4**i, 10 * 4 ** (i + 1)]}],
                "points": 3 * i,
            }
        )
        fit.append(
            {
                "id": f"industry_{i}",
                "when": [{"field": "industry", "one_of": [f"industry-{i}", f"sector-{i}", "software"]}],
                "points": 4,
            }
        )
        fit.append(
            {
                "id": f"domain_{i}",
                "when": [
                    {"field": "email_domain", "contains": [f"mail{i}.", "free"]},
                    {"field": "country", "one_of": ["US", "GB"], "negate": True},
                ],
                "points": -5,
            }
        )
    engagement: list[dict[str, Any]] = []
    types = ["form_submitted", "page_viewed", "email_opened", "email_clicked", "email_bounced"]
    for i in range(30):
        rule: dict[str, Any] = {"id": f"engage_{i}", "event": types[i % len(types)], "points": (i % 7) + 1}
        if i % 5 in {0, 1}:
            rule["when"] = [{"field": "form_id" if i % 5 == 0 else "page_url", "contains": [f"thing-{i % 6}"]}]
        if i % 3 == 0:
            rule["cap"] = {"points": 10, "per": ["day", "week", "month"][i % 3 == 0 and (i // 3) % 3]}
        engagement.append(rule)
    document = {
        "id": "bench",
        "version": "1",
        "name": "50 rules",
        "thresholds": {"mql": 60, "sql": 120},
        "rearm_margin": 20,
        "bands": {
            "fit": [{"name": "A", "min": 20}, {"name": "B"}],
            "engagement": [{"name": "1", "min": 30}, {"name": "2"}],
        },
        "fit_rules": fit,
        "engagement_rules": engagement,
    }
    model = ScoringModel.model_validate(document)
    assert len(model.fit_rules) + len(model.engagement_rules) == 50
    return compile_model(model)


def default_model() -> CompiledModel:
    return compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))


def realistic_events(count: int, leads: int, seed: int = 7) -> list[tuple[str, EventFacts]]:
    """A mix like production: mostly email activity and page views, some forms with attributes."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    facts: list[tuple[str, EventFacts]] = []
    for index in range(count):
        lead = rng.randrange(leads)
        at = start + timedelta(minutes=index // 10)
        kind = rng.choices(
            ["email_opened", "email_clicked", "page_viewed", "form_submitted", "email_delivered"], [40, 15, 25, 10, 10]
        )[0]
        attributes: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        if kind == "form_submitted":
            properties["form_id"] = rng.choice(
                ["demo-request", "thing-0-download", "whitepaper-download", "newsletter"]
            )
            attributes = {
                "job_title": rng.choice(["VP Sales", "Engineer", "Head of IT"]),
                "company_size": rng.choice([40, 250, 3000]),
                "industry": "software",
                "country": "GB",
            }
        elif kind == "page_viewed":
            properties["page_url"] = rng.choice(["https://x/pricing", "https://x/thing-1", "https://x/blog/thing-2"])
        elif kind == "email_clicked":
            properties["link_url"] = rng.choice(["https://x/pricing", "https://x/case"])
        event = LeadEvent(
            event_id=f"e{index}",
            source="bench",
            type=kind,
            occurred_at=at,
            received_at=at,
            email=f"lead{lead}@company{lead % 97}.example",
            attributes=attributes,
            properties=properties,
        )
        facts.append((f"lead{lead}", facts_from_event(event)))
    return facts


def best_of(runs: int, work: Callable[[], int]) -> float:
    """Highest events/s over `runs` runs of `work` (which returns how many events it handled)."""
    best = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        handled = work()
        best = max(best, handled / (time.perf_counter() - started))
    return best


def exact_path_rate(model: CompiledModel, facts: list[tuple[str, EventFacts]]) -> float:
    def run() -> int:
        states: dict[str, ScoreState] = {}
        for lead, fact in facts:
            state = states.get(lead) or new_state(lead, model)
            states[lead] = score_event(fact, model, state, now=fact.occurred_at, alert_lease_seconds=60).state
        return len(facts)

    return best_of(5, run)


def fast_path_rate(model: CompiledModel, facts: list[tuple[str, EventFacts]]) -> float:
    def run() -> int:
        for _, fact in facts:
            plan_fast_path(fact, model, now=fact.occurred_at)
        return len(facts)

    return best_of(5, run)


def main(quick: bool = False, say: Callable[[str], None] = print) -> dict[str, float]:
    facts = realistic_events(20_000 if quick else 100_000, leads=2_000)
    results = {}
    for name, model in (("50-rule model", fifty_rule_model()), ("default.yaml", default_model())):
        exact = exact_path_rate(model, facts)
        plan = fast_path_rate(model, facts)
        results[f"core exact path, {name} (events/s)"] = exact
        results[f"core fast-path planning, {name} (events/s)"] = plan
        verdict = "meets" if exact >= TARGET_EVENTS_PER_SECOND else "BELOW"
        say(
            f"  {name:<14} exact path {exact:>10,.0f} events/s ({verdict} the {TARGET_EVENTS_PER_SECOND:,}/s target); "
            f"fast-path planning {plan:>10,.0f} events/s"
        )
    return results


if __name__ == "__main__":
    main()
