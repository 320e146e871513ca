"""Per-instance rate limits for /track: counters in the function's memory, no request to anything.

Why not a DynamoDB counter by default: it costs one write unit per beacon ($0.625 per million), as much as
the page view's own write — doubling the storage cost of the path whose target is <= $1 per million page
views. In memory, a flood from one address or one visitor id meets the limit in every warm instance it
reaches; with the function's reserved concurrency (TrackMaxConcurrency) the worst case is that many times
the limit, and API Gateway's stage throttling caps the total. The exact, shared counter is one parameter
away (TrackRateLimitStore=dynamodb: DynamoVisitorStore.allow, one conditional UpdateItem per beacon).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_KEYS = 200_000  # ~20 MB at most; past it the minute's counters are dropped (fail open, never 5xx)


@dataclass
class InstanceRateLimiter:
    """RateLimiter in this process: beacons per address and per visitor in the current minute."""

    minute: int = -1
    by_ip: dict[str, int] = field(default_factory=dict)
    by_visitor: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allow(self, ip_key: str, visitor_id: str, *, minute: int, ip_limit: int, visitor_limit: int) -> bool:
        with self._lock:
            if minute != self.minute or len(self.by_ip) + len(self.by_visitor) > MAX_KEYS:
                self.minute, self.by_ip, self.by_visitor = minute, {}, {}
            if self.by_ip.get(ip_key, 0) >= ip_limit or self.by_visitor.get(visitor_id, 0) >= visitor_limit:
                return False
            self.by_ip[ip_key] = self.by_ip.get(ip_key, 0) + 1
            self.by_visitor[visitor_id] = self.by_visitor.get(visitor_id, 0) + 1
            return True
