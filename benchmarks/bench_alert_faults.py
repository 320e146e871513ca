"""Duplicate and lost sales alerts under injected faults, counted (issue 9). Printed, never asserted here: the
integration tests (tests/integration/test_fault_injection.py) assert the same scenarios on smaller inputs.

python -m benchmarks.bench_alert_faults           200 events / 20 leads, 5 seeds, crash at every call of a
                                                  3-lead batch, SNS outage (about 20-40 minutes under moto)
python -m benchmarks.bench_alert_faults --quick   40 events / 8 leads, 2 seeds, 1-lead batch
"""

from __future__ import annotations

import argparse
import os
import time

from leadscore import clock
from local.stack import EmulatedStack
from tests.integration import fault_scenarios
from tests.integration.fault_workload import EndState


def _line(label: str, state: EndState, seconds: float) -> str:
    return (
        f"  {label:<22} alerts owed {state.alerts_owed:>3}  delivered {state.alerts_delivered:>3}  "
        f"duplicates {state.duplicate_alerts:>2}  missing {state.missing_alerts:>2}  "
        f"wrong totals {len(state.wrong_totals):>2}  lead-events DLQ {state.lead_events_dlq:>2}  ({seconds:.0f} s)"
    )


def main(*, quick: bool) -> None:
    events, leads = (40, 8) if quick else (200, 20)
    seeds = (1, 2) if quick else (1, 2, 3, 4, 5)
    stack = EmulatedStack(log_level="CRITICAL")
    try:
        print(f"\n-- 30 % of UpdateItem calls failing ({events} events, {leads} leads)")
        for seed in seeds:
            stack.reset()
            clock.reset()
            started = time.perf_counter()
            state = fault_scenarios.update_item_failures(stack, seed, events=events, leads=leads)
            print(_line(f"seed {seed}", state, time.perf_counter() - started))

        print(f"\n-- SNS refusing every Publish while the queues settle, then back ({events} events)")
        stack.reset()
        clock.reset()
        started = time.perf_counter()
        state, in_dlq = fault_scenarios.sns_outage(stack, events=events, leads=leads)
        print(f"  lead events in the DLQ when the outage ended: {in_dlq}")
        print(_line("after recovery", state, time.perf_counter() - started))

        crash_leads = 1 if quick else 3
        print(f"\n-- the scorer killed before each AWS call of one batch ({crash_leads} leads crossing)")
        stack.reset()
        clock.reset()
        started = time.perf_counter()
        points, summary = fault_scenarios.crash_every_point(stack, leads=crash_leads)
        print(
            f"  {points} crash points: alerts owed {summary['owed']}, delivered {summary['delivered']}, "
            f"duplicates {summary['duplicates']}, missing {summary['missing']}, wrong totals "
            f"{summary['wrong_totals']}, lead-events DLQ {summary['dlq']} ({time.perf_counter() - started:.0f} s)"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_alert_faults", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    main(quick=parser.parse_args().quick)
