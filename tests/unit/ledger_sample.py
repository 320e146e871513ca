"""A small, hand-checked ledger (contract C2) for the evaluation tests: 6 leads, 19 records (18 of model default).

Day n is 2026-11-01 + n days at 10:00 UTC (day 1 = Monday 2 November). Model `default` (thresholds MQL 40,
SQL 75; bands fit A >= 35, B >= 15, C; engagement 1 >= 40, 2 >= 15, 3).

    lead  records (day: type -> total, stage)          before 1st outcome           outcome
    L1    1 whitepaper 30 LEAD; 3 pricing 50 MQL;        total 90 SQL, fit 25 eng 65  accepted day 6,
          5 demo 90 SQL                                                               won day 20 (12,000)
    L2    1 webinar 25 LEAD; 2 pricing 45 MQL;           total 45 MQL, fit 15 eng 30  rejected day 4 (no_intent)
          10 pricing 55 (after the outcome)
    L3    2 form, no rule: 10 LEAD; 3 automated open     total 10 LEAD, fit 10 eng 0  none
          (0 points); 12 delivery (no_op, no score); one
          record of another model
    L4    8 case study 40 MQL                            total 40 MQL, fit 35 eng 5   accepted day 9, lost day 30
    L5    8 webinar on /pricing 40 MQL (+ its            total 40 MQL, fit 5 eng 35   none
          redelivery: result duplicate)
    L6    9 sales_accepted only (no activity before it)  not evaluated

Hand-computed expectations (the tests restate them where they check them):
- scores (L1..L5) 90, 45, 10, 40, 40; accepted L1, L4. AUC: ascending ranks 10→1, 40,40→2.5, 45→4, 90→5;
  positives' rank sum 5 + 2.5 = 7.5; U = 7.5 - 2*3/2 = 4.5; AUC = 4.5 / (2*3) = 0.75.
- reached MQL: L1, L2, L4, L5 → precision 2/4 = 0.5, recall 2/2 = 1.0; reached SQL: L1 → precision 1.0,
  recall 1/2 = 0.5.
- bands: L1 B1, L2 B2, L3 C3, L4 A3, L5 C2 → A3 1/1, B1 1/1, B2 0/1, C2 0/1, C3 0/1.
- stage at outcome: LEAD {L3} 0/1; MQL {L2, L4, L5} 1/3 (1 rejected); SQL {L1} 1/1 (1 won).
- weeks: 2 Nov: new MQL L1, L2, new SQL L1; 9 Nov: new MQL L4, L5; 16 Nov: none; 23 Nov: no records;
  30 Nov: none → 5 weeks, 4 MQL (0.8 a week), 1 SQL (0.2 a week).
- first touch to SQL: L1 only, day 1 → day 5 = 4 days.
- rules before the first outcome: pricing_interest L1, L2, L5 (1 accepted, points 20+20+25 = 65; L2's day-10
  hit comes after its rejection); webinar L2, L5 (0 accepted, 20 points: the duplicate's 10 do not count);
  whitepaper L1, demo_request L1, case_study L4 (1 accepted each); email_open:automated L3 (0, 0 points).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DAY0 = datetime(2026, 11, 1, 10, tzinfo=UTC)
OUTCOMES = {"sales_accepted", "sales_rejected", "deal_won", "deal_lost"}


def at(day: int) -> str:
    return (DAY0 + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    lead: str,
    event_id: str,
    day: int,
    kind: str,
    *,
    fit: float,
    engagement: float,
    stage: str,
    before: str,
    hits: tuple[tuple[str, float], ...] = (),
    result: str = "applied",
    outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "ledger_version": 1,
        "event_id": event_id,
        "source": "crm" if kind in OUTCOMES else "forms",
        "type": kind,
        "occurred_at": at(day),
        "recorded_at": at(day),
        "lead_id": lead,
        "model_id": "default",
        "model_version": "2026.11.1",
        "result": result,
        "hits": [{"rule": rule, "points": points} for rule, points in hits],
        "fit": fit,
        "engagement": engagement,
        "total": fit + engagement,
        "stage": stage,
        "stage_before": before,
        "attributes": {},
        "properties": {},
        "outcome": outcome if kind in OUTCOMES else None,
    }


def sample_records() -> list[dict[str, Any]]:
    r = record
    return [
        r("L1", "l1-1", 1, "form_submitted", fit=25, engagement=5, stage="LEAD", before="LEAD",
          hits=(("whitepaper", 5),)),
        r("L1", "l1-2", 3, "page_viewed", fit=25, engagement=25, stage="MQL", before="LEAD",
          hits=(("pricing_interest", 20),)),
        r("L1", "l1-3", 5, "form_submitted", fit=25, engagement=65, stage="SQL", before="MQL",
          hits=(("demo_request", 40),)),
        r("L1", "l1-4", 6, "sales_accepted", fit=25, engagement=65, stage="SQL", before="SQL",
          outcome={"reason": None, "amount": None, "currency": None}),
        r("L1", "l1-5", 20, "deal_won", fit=25, engagement=65, stage="SQL", before="SQL",
          outcome={"reason": None, "amount": 12000.0, "currency": "USD"}),
        r("L2", "l2-1", 1, "form_submitted", fit=15, engagement=10, stage="LEAD", before="LEAD",
          hits=(("webinar", 10),)),
        r("L2", "l2-2", 2, "page_viewed", fit=15, engagement=30, stage="MQL", before="LEAD",
          hits=(("pricing_interest", 20),)),
        r("L2", "l2-3", 4, "sales_rejected", fit=15, engagement=30, stage="MQL", before="MQL",
          outcome={"reason": "no_intent", "amount": None, "currency": None}),
        r("L2", "l2-4", 10, "page_viewed", fit=15, engagement=40, stage="MQL", before="MQL",
          hits=(("pricing_interest", 10),)),
        r("L3", "l3-1", 2, "form_submitted", fit=10, engagement=0, stage="LEAD", before="LEAD"),
        r("L3", "l3-2", 3, "email_opened", fit=10, engagement=0, stage="LEAD", before="LEAD",
          hits=(("email_open:automated", 0),)),
        r("L4", "l4-1", 8, "form_submitted", fit=35, engagement=5, stage="MQL", before="LEAD",
          hits=(("case_study", 5),)),
        r("L4", "l4-2", 9, "sales_accepted", fit=35, engagement=5, stage="MQL", before="MQL",
          outcome={"reason": None, "amount": None, "currency": None}),
        r("L4", "l4-3", 30, "deal_lost", fit=35, engagement=5, stage="MQL", before="MQL",
          outcome={"reason": None, "amount": 8000.0, "currency": "USD"}),
        r("L5", "l5-1", 8, "form_submitted", fit=5, engagement=35, stage="MQL", before="LEAD",
          hits=(("webinar", 10), ("pricing_interest", 25))),
        r("L5", "l5-1", 8, "form_submitted", fit=5, engagement=35, stage="MQL", before="MQL",
          hits=(("webinar", 10),), result="duplicate"),
        r("L6", "l6-1", 9, "sales_accepted", fit=0, engagement=0, stage="LEAD", before="LEAD",
          outcome={"reason": None, "amount": None, "currency": None}),
        # Another model's record of L3: never mixed into model `default`'s numbers.
        {**r("L3", "l3-1", 2, "form_submitted", fit=90, engagement=0, stage="SQL", before="LEAD"), "model_id": "other"},
        # A no_op record of a lead the scorer did not read: no score in it (C2 allows nulls there).
        {**r("L3", "l3-3", 12, "email_delivered", fit=0, engagement=0, stage="LEAD", before="LEAD", result="no_op"),
         "fit": None, "engagement": None, "total": None, "stage": None, "stage_before": None},
    ]  # fmt: skip


def write_ledger(root: Path, records: list[dict[str, Any]] | None = None) -> Path:
    """The records as C2 lays them out: <root>/ledger/dt=<recorded day>/part-0.jsonl."""
    for item in records if records is not None else sample_records():
        day = item["recorded_at"][:10]
        folder = root / "ledger" / f"dt={day}"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "part-0.jsonl").open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(item) + "\n")
    return root


def same_second_records() -> list[dict[str, Any]]:
    """Leads whose events share one second, written to the file in another order than the scorer applied them.

    C2 v2 lines carry `sequence` (the lead's score item version after the event): the scorer applied S1's
    s1-b (version 1, total 30 LEAD) then s1-a (version 2, total 60 MQL), and the file holds s1-a first; S2's
    event ids happen to agree with its versions (s2-a 4 then s2-b 5). S3's lines are version 1 (no
    sequence): the event id decides, as before sequences existed. S1 is accepted on day 5.
    """

    def line(lead: str, event_id: str, day: int, sequence: int | None, **score: Any) -> dict[str, Any]:
        item = record(lead, event_id, day, "page_viewed", **score)
        return item if sequence is None else {**item, "ledger_version": 2, "sequence": sequence}

    return [
        line("S1", "s1-a", 2, 2, fit=20, engagement=40, stage="MQL", before="LEAD", hits=(("pricing_interest", 30),)),
        line("S1", "s1-b", 2, 1, fit=20, engagement=10, stage="LEAD", before="LEAD", hits=(("webinar", 10),)),
        {**record("S1", "s1-c", 5, "sales_accepted", fit=20, engagement=40, stage="MQL", before="MQL"),
         "ledger_version": 2, "sequence": 2},
        line("S2", "s2-b", 2, 5, fit=20, engagement=40, stage="MQL", before="LEAD", hits=(("pricing_interest", 30),)),
        line("S2", "s2-a", 2, 4, fit=20, engagement=10, stage="LEAD", before="LEAD", hits=(("webinar", 10),)),
        line("S3", "s3-a", 2, None, fit=20, engagement=40, stage="MQL", before="LEAD"),
        line("S3", "s3-b", 2, None, fit=20, engagement=10, stage="LEAD", before="LEAD"),
    ]  # fmt: skip
