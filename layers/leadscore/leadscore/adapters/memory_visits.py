"""In-memory VisitorStore + RateLimiter with the DynamoDB adapter's conditions (unit tests, benchmarks)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leadscore.adapters.visits import Backlog, Claimed, LeadRef, Recorded


@dataclass
class InMemoryVisitorStore:
    visitors: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: set[tuple[str, str]] = field(default_factory=set)  # (lead id, visitor id)
    counters: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, visitor_id: str, views: Sequence[str], *, now: int, expires_at: int, max_views: int) -> Recorded:
        with self._lock:
            self.writes += 1
            item = self.visitors.setdefault(visitor_id, {})
            if "lead_id" in item:
                return Recorded(False, LeadRef(item["lead_id"], item["email"]))
            stored = item.get("v", [])
            if len(stored) > max_views - len(views):
                return Recorded(False)
            item["v"] = [*stored, *views]
            item["expires_at"] = expires_at
            return Recorded(True)

    def claim(self, visitor_id: str, lead: LeadRef, *, at: int, expires_at: int) -> Claimed:
        with self._lock:
            self.writes += 1
            item = self.visitors.setdefault(visitor_id, {})
            if "lead_at" in item and item["lead_at"] > at:
                return Claimed(first=item.get("first_lead"), latest=False)
            item.update(lead_id=lead.lead_id, email=lead.email, lead_at=at, expires_at=expires_at)
            item.setdefault("first_lead", lead.lead_id)
            item.setdefault("first_at", at)
            return Claimed(first=item["first_lead"], latest=True)

    def link(self, visitor_id: str, lead_id: str, *, at: int) -> None:
        with self._lock:
            self.writes += 2
            self.links.add((lead_id, visitor_id))

    def take_backlog(self, visitor_id: str, lead_id: str, *, owner: str, now: int, lease_until: int) -> Backlog | None:
        with self._lock:
            self.writes += 1
            item = self.visitors.get(visitor_id, {})
            free = "lease" not in item or item["lease"] <= now or item.get("lease_owner") == owner
            if item.get("first_lead") != lead_id or "v" not in item or not free:
                return None
            item.update(lease=lease_until, lease_owner=owner)
            item.setdefault("cur", 0)
            return Backlog(list(item["v"]), item["cur"], item.get("first_at", 0))

    def advance(self, visitor_id: str, *, owner: str, cursor: int, to: int, done: bool) -> bool:
        with self._lock:
            self.writes += 1
            item = self.visitors.get(visitor_id, {})
            if item.get("lease_owner") != owner or item.get("cur") != cursor:
                return False
            item["cur"] = to
            if done:
                for name in ("v", "lease", "lease_owner"):
                    item.pop(name, None)
            return True

    def visitors_of(self, lead_id: str) -> list[str]:
        return sorted(visitor for lead, visitor in self.links if lead == lead_id)

    def allow(self, ip_key: str, visitor_id: str, *, minute: int, ip_limit: int, visitor_limit: int) -> bool:
        with self._lock:
            self.writes += 1
            counter = self.counters.setdefault((ip_key, minute), {})
            if counter.get("c", 0) >= ip_limit or counter.get(visitor_id, 0) >= visitor_limit:
                return False
            counter["c"] = counter.get("c", 0) + 1
            counter[visitor_id] = counter.get(visitor_id, 0) + 1
            return True
