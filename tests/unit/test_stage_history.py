"""Stage history: the exact path's own write records each stage change (bounded), and the leads API shows it as
periods (entered, left)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.adapters.ports import WriteResult
from leadscore.adapters.score_item import RuleKeys, from_item, full_update, to_item
from leadscore.core.decay import apply_decay
from leadscore.core.scoring import move_stage, new_state
from leadscore.core.state import STAGE_LOG_MAX, ScoreState, Stage
from leadscore.services.leads import stage_periods
from tests.unit.builders import DAY, HOUR, MONDAY, a_form_event, a_scoring_rig, the_default_model
from tests.unit.test_score_item import assert_well_formed

MODEL = the_default_model()


def test_crossing_mql_then_sql_records_both_entries_in_the_scoring_write() -> None:
    # Given a fit lead (MQL at its first form), and a record of every exact-path save
    rig = a_scoring_rig(MODEL)
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", at=MONDAY))
    saved: list[ScoreState] = []
    save = rig.store.save

    def recording(state: ScoreState, expected_version: int) -> WriteResult:
        saved.append(state)
        return save(state, expected_version)

    rig.store.save = recording  # type: ignore[method-assign]

    # When a demo request takes it to SQL an hour later
    rig.clock.now = MONDAY + HOUR
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + HOUR))

    # Then the one save that moved the stage carried the log: MQL then SQL, with their times
    [write] = saved
    assert write.stage is Stage.SQL
    assert write.stage_log == [(Stage.MQL, MONDAY), (Stage.SQL, MONDAY + HOUR)]


def test_the_log_is_bounded_and_keeps_the_newest_changes() -> None:
    # Given a state moved up and down many times
    state = new_state("lead-a", MODEL)
    for step in range(3 * STAGE_LOG_MAX):
        state.total = Decimal(200) if step % 2 == 0 else Decimal(0)
        move_stage(state, MODEL, MONDAY + step)
    # Then it keeps the newest STAGE_LOG_MAX changes, oldest first
    assert len(state.stage_log) == STAGE_LOG_MAX
    assert state.stage_log[-1] == (Stage.LEAD, MONDAY + 3 * STAGE_LOG_MAX - 1)
    assert [at for _, at in state.stage_log] == sorted(at for _, at in state.stage_log)


def test_decay_recycling_is_logged_like_any_change() -> None:
    # Given an MQL lead with engagement only, When weeks of decay take it back to LEAD
    rig = a_scoring_rig(MODEL)
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", at=MONDAY))
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 1))
    [state] = rig.store.scores.values()
    decayed = apply_decay(state, MODEL, now=MONDAY + 400 * DAY).state
    # Then the log ends with the recycled stage at the decay time
    assert decayed.stage is not Stage.SQL
    assert decayed.stage_log[-1] == (decayed.stage, MONDAY + 400 * DAY)
    assert decayed.recycled_at == MONDAY + 400 * DAY


def test_an_item_from_before_the_log_seeds_it_with_its_current_stage() -> None:
    # Given a stored MQL state without a log (written before this feature), When it moves to SQL
    state = new_state("lead-a", MODEL)
    state.stage, state.stage_changed_at, state.total = Stage.MQL, MONDAY, Decimal(500)
    move_stage(state, MODEL, MONDAY + DAY)
    # Then the log says since when it was MQL, then SQL
    assert state.stage_log == [(Stage.MQL, MONDAY), (Stage.SQL, MONDAY + DAY)]


@settings(max_examples=50, deadline=None)
@given(log=st.lists(st.tuples(st.sampled_from(list(Stage)), st.integers(0, 2**31)), max_size=STAGE_LOG_MAX))
def test_the_log_round_trips_through_the_item_and_its_write(log: list[tuple[Stage, int]]) -> None:
    # Given any log, When written as an item and read back, Then the same log; the full write is well formed
    state = new_state("lead-a", MODEL)
    state.stage_log = log
    keys = RuleKeys(MODEL.rule_ids)
    assert from_item(to_item(state, keys), keys).stage_log == log
    assert_well_formed(full_update(state, keys, expected_version=3))


def test_periods_say_when_each_stage_was_entered_and_left() -> None:
    # Given a lead created at MONDAY, MQL an hour later, SQL the next day, recycled to MQL a month later
    state = new_state("lead-a", MODEL)
    state.created_at = MONDAY
    state.stage_log = [(Stage.MQL, MONDAY + HOUR), (Stage.SQL, MONDAY + DAY), (Stage.MQL, MONDAY + 30 * DAY)]
    state.stage = Stage.MQL
    # When shown, Then four periods, the last one still open
    periods = [(p.stage, p.entered_at, p.left_at) for p in stage_periods(state)]
    assert periods == [
        ("LEAD", "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z"),
        ("MQL", "2026-11-23T10:00:00Z", "2026-11-24T09:00:00Z"),
        ("SQL", "2026-11-24T09:00:00Z", "2026-12-23T09:00:00Z"),
        ("MQL", "2026-12-23T09:00:00Z", None),
    ]


def test_a_state_without_a_log_shows_its_current_stage_since_its_last_change() -> None:
    state = new_state("lead-a", MODEL)
    state.stage, state.stage_changed_at = Stage.SQL, MONDAY
    [period] = stage_periods(state)
    assert (period.stage, period.entered_at, period.left_at) == ("SQL", "2026-11-23T09:00:00Z", None)
