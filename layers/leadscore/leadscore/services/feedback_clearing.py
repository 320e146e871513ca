"""Whether an outcome event must still clear a model's feedback mark (adapters/feedback_marks.py), decided from
the score item the outcome's own scoring already read, so a lead with nothing to clear costs no write.

The clear is one conditional UpdateItem (`attribute_exists(fb_pk) AND alert_at <= occurred_at`), and a failed
condition still costs a write unit: before this check every outcome event paid one per model, alerted or not.

Why skipping never loses a clear. The mark and `alert_at` are set together by the alert sender's
`complete_alert`, on the score item, and `alert_at` is what the state decodes as `last_alert_at`. The scorer
read that item with a consistent read (or wrote it conditionally on its version, which `complete_alert` bumps)
after `read_at`. So:
- a mark written BEFORE the read shows in the state: `last_alert_at` set. The clear is skipped only when it
  would fail anyway: no alert at all, or an alert newer than the feedback (`last_alert_at > occurred_at`).
- a mark written AFTER the read carries `alert_at` = the sender's clock then, at or after `read_at` (give or
  take the clocks' skew: Lambda clocks follow the Amazon Time Sync Service, well under a second; `alert_at`
  truncates to the second). For an outcome that occurred before `read_at - CLOCK_MARGIN_SECONDS`, that mark
  is newer than the feedback and the clear's own condition would refuse it too: skipping it is harmless (the
  new alert rightly awaits feedback). An outcome closer to `read_at` than that is cleared as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadscore.core.state import ScoreState

CLOCK_MARGIN_SECONDS = 5  # skew between the scorer's and the alert sender's clocks, plus truncation to seconds


def may_hold_a_mark(state: ScoreState | None, *, read: bool, occurred_at: int, read_at: int) -> bool:
    """Whether the clear for one model must be sent.

    Args:
        state: the lead's score under the model as the outcome's scoring read or wrote it (None: no item).
        read: whether the scoring read (or conditionally wrote) the item after `read_at`; False: it knows
            nothing (the fast path's blind write), so the clear is sent.
        occurred_at: the outcome's time (the clear's condition compares the alert time with it).
        read_at: the scorer's clock before it read the item.
    """
    if not read or occurred_at >= read_at - CLOCK_MARGIN_SECONDS:
        return True
    return state is not None and state.last_alert_at is not None and state.last_alert_at <= occurred_at
