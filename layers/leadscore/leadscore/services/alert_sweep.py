"""The alert sweep: every few minutes, hand over alerts left in an outbox with no one to take them.

An alert is stranded when its hand-off failed (the alert queue was unavailable: the lease was released) or
its holder died before handing it off, and the lead has no further event to take it over. The sparse
by-pending-alert index holds only leads with an alert in the outbox, keyed by when its lease ends, so a
sweep reads those and nothing else. Handing over an alert that is already on its way is harmless (the queue
deduplicates by alert id; the sender finds it delivered).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState
from leadscore.services.scoring import AlertOutbox

SWEEP_LIMIT = 100  # per model and run; a run every 5 minutes hands over 1,200 an hour per model


class PendingAlerts(Protocol):
    def due_alerts(self, model_id: str, now: int, limit: int) -> list[str]: ...

    def load(self, lead_id: str, model_id: str) -> ScoreState | None: ...


@dataclass
class AlertSweep:
    store: PendingAlerts
    outbox: AlertOutbox
    models: Sequence[CompiledModel]
    limit: int = SWEEP_LIMIT

    def run(self, now: int) -> int:
        """Hand over every stranded alert (lease ended by `now`); returns how many this run handed over."""
        handed = 0
        for model in self.models:
            for lead_id in self.store.due_alerts(model.id, now, self.limit):
                state = self.store.load(lead_id, model.id)
                if state is None or state.alert_pending is None:
                    continue  # delivered since the index was read
                if self.outbox.deliver(model, state, now, holds_lease=False):
                    handed += 1
        return handed
