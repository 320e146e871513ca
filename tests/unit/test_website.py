"""The website path's pure parts and services on fakes: tokens, compact views, stitching, the /track service."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.adapters.memory import InMemoryQueue
from leadscore.adapters.memory_visits import InMemoryVisitorStore
from leadscore.adapters.visits import LeadRef
from leadscore.core.identity import lead_id_for
from leadscore.core.tokens import make_token, verify_token
from leadscore.core.visits import MAX_PATH, MAX_VIEW_ID, MAX_VIEWS, backlog, decode_view, encode_view
from leadscore.models.beacon import Beacon
from leadscore.services.stitching import CHUNK, StitchingService
from leadscore.services.track import Outcome, TrackLimits, TrackRejected, TrackService, read_link_message
from tests.unit.builders import DAY, MONDAY, PEPPER, a_form_event, a_scoring_rig

KEY = b"k" * 32
LEAD = lead_id_for("ada@analytical.example", PEPPER)
VISITOR = "AbCdEfGhIjKlMnOpQrStUv"
ORIGIN = "https://www.example.com"
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


# ---- tokens ---------------------------------------------------------------------------------------------


def test_a_token_identifies_its_lead_until_it_expires() -> None:
    # Given a token for a lead, valid for a day
    token = make_token(LEAD, MONDAY + DAY, KEY)

    # Then it verifies before the expiry, not at or after it, and never under another key
    assert verify_token(token, [KEY], MONDAY) == LEAD
    assert verify_token(token, [KEY], MONDAY + DAY) is None
    assert verify_token(token, [b"another key"], MONDAY) is None


def test_during_a_rotation_tokens_signed_with_the_previous_key_still_verify() -> None:
    token = make_token(LEAD, MONDAY + DAY, b"old")
    assert verify_token(token, [b"new", b"old"], MONDAY) == LEAD


def test_editing_any_part_of_a_token_breaks_it() -> None:
    # Given a valid token
    token = make_token(LEAD, MONDAY + DAY, KEY)
    lead, expiry, mac = token.split(".")
    other_lead = lead_id_for("eve@example.com", PEPPER)

    # When the lead, the expiry or the signature is changed / Then nothing verifies
    for forged in (f"{other_lead}.{expiry}.{mac}", f"{lead}.zzzzzz.{mac}", f"{lead}.{expiry}.{'A' * 22}"):
        assert verify_token(forged, [KEY], MONDAY) is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_no_string_verifies_or_raises_unless_it_was_signed(text: str) -> None:
    # Given any text at all / When verified / Then it is refused without an exception
    assert verify_token(text, [KEY], MONDAY) is None


def test_only_lead_ids_can_be_signed() -> None:
    with pytest.raises(ValueError, match="lead id"):
        make_token("ada@example.com", MONDAY, KEY)


# ---- compact views --------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    view_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=16, max_size=32),
    at=st.integers(min_value=0, max_value=2**33),
    path=st.text(min_size=0, max_size=400),
)
def test_a_view_decodes_to_what_was_encoded_without_query_or_fragment(view_id: str, at: int, path: str) -> None:
    # Given any view / When encoded and decoded
    view = decode_view(encode_view(view_id, at, path))

    # Then the id and time survive, and the path is the bare path, bounded
    assert view is not None
    assert (view.view_id, view.at) == (view_id[:MAX_VIEW_ID], at)
    assert "?" not in view.path
    assert "#" not in view.path
    assert 1 <= len(view.path) <= MAX_PATH


def test_the_path_is_kept_without_its_query_string() -> None:
    view = decode_view(encode_view("v" * 16, MONDAY, "/pricing?email=ada@example.com#plans"))
    assert view is not None
    assert view.path == "/pricing"


@settings(max_examples=200, deadline=None)
@given(
    views=st.lists(
        st.tuples(st.sampled_from([f"{i:012d}view" for i in range(8)]), st.integers(0, 60 * DAY)), max_size=30
    ),
    window_days=st.integers(1, 60),
)
def test_the_backlog_is_in_time_order_once_per_view_and_within_the_window(
    views: list[tuple[str, int]], window_days: int
) -> None:
    # Given stored views (some retried: the same id twice) / When the backlog is planned at day 60
    now = MONDAY + 60 * DAY
    stored = [encode_view(view_id, MONDAY + at, "/p") for view_id, at in views]
    plan = backlog(stored, now=now, window_seconds=window_days * DAY)

    # Then each view id appears once, oldest first, none older than the window
    ids = [view.view_id for view in plan]
    assert len(ids) == len(set(ids))
    assert [view.at for view in plan] == sorted(view.at for view in plan)
    assert all(view.at >= now - window_days * DAY for view in plan)


# ---- stitching on fakes ---------------------------------------------------------------------------------


def a_stitcher(views: int, *, chunk: int = CHUNK) -> tuple[StitchingService, InMemoryVisitorStore, object]:
    rig = a_scoring_rig()
    rig.clock.now = MONDAY + 10 * DAY  # type: ignore[attr-defined]
    visitors = InMemoryVisitorStore()
    paths = ["/pricing", "/security", "/customers/acme", "/docs/api", "/blog/x"]
    stored = [encode_view(f"{i:012d}view", MONDAY + i * 3600, paths[i % len(paths)]) for i in range(views)]
    if stored:
        visitors.record(VISITOR, stored, now=MONDAY, expires_at=MONDAY + 30 * DAY, max_views=MAX_VIEWS)
    service = StitchingService(
        visitors=visitors,
        profiles=rig.store,
        scoring=rig.service,
        pepper=PEPPER,
        clock=rig.clock,
        window_seconds=30 * DAY,
        linked_ttl_seconds=395 * DAY,
        chunk=chunk,
    )
    return service, visitors, rig


def page_hits(rig: object) -> dict[str, int]:
    states = list(rig.store.scores.values())  # type: ignore[attr-defined]
    if not states:
        return {}
    [state] = states
    page_rules = {"pricing_interest", "security_review", "customer_stories", "docs", "company_pages"}
    return {rule: count for rule, count in state.hits.items() if rule in page_rules}


def a_form_with_visitor(event_id: str = "sub-1", email: str = "ada@analytical.example") -> object:
    event = a_form_event(form_id="contact", at=MONDAY + 5 * DAY, event_id=event_id, email=email)
    return event.model_copy(update={"properties": {**event.properties, "visitor_id": VISITOR}})


def test_a_form_with_the_visitor_id_scores_its_anonymous_views_once_even_when_redelivered() -> None:
    # Given a visitor with 20 anonymous views, and the lead's form carrying its visitor id
    service, visitors, rig = a_stitcher(20)
    form = a_form_with_visitor()

    # When the form is scored and stitched, then delivered again twice
    rig.service.process(form)  # type: ignore[attr-defined]
    first = service.after_event(form)  # type: ignore[arg-type]
    again = [service.after_event(form) for _ in range(2)]  # type: ignore[arg-type]

    # Then every view was scored exactly once, the repeats walked nothing, and the views are gone
    assert first is not None
    assert first.scored == 20
    assert [result.scored for result in again if result] == [0, 0]
    assert sum(page_hits(rig).values()) == 20
    assert "v" not in visitors.visitors[VISITOR]
    assert visitors.visitors_of(LEAD) == [VISITOR]


def test_a_crash_mid_backlog_resumes_from_the_cursor_and_counts_nothing_twice() -> None:
    # Given 20 anonymous views and a scorer that dies after scoring 11 of them (cursor confirmed at 8)
    service, visitors, rig = a_stitcher(20)
    form = a_form_with_visitor()
    calls = {"n": 0}
    real = rig.service.process  # type: ignore[attr-defined]

    def dying(event: object) -> object:
        calls["n"] += 1
        if calls["n"] == 12:
            raise RuntimeError("the scorer died")
        return real(event)

    rig.service.process = dying  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        service.after_event(form)  # type: ignore[arg-type]
    assert visitors.visitors[VISITOR]["cur"] == CHUNK

    # When the same event is redelivered (it owns the lease: it may take it again at once)
    rig.service.process = real  # type: ignore[attr-defined]
    resumed = service.after_event(form)  # type: ignore[arg-type]

    # Then views 9-11 were walked again but the score item's dedup absorbed them: 20 hits in all
    assert resumed is not None
    assert resumed.scored == 20 - CHUNK
    assert sum(page_hits(rig).values()) == 20


def test_two_forms_at_once_score_the_backlog_once() -> None:
    # Given 30 anonymous views and two different forms of the same lead carrying the visitor id
    service, _, rig = a_stitcher(30)
    forms = [a_form_with_visitor("sub-1"), a_form_with_visitor("sub-2")]
    barrier = threading.Barrier(2)

    def deliver(form: object) -> int:
        barrier.wait()
        rig.service.process(form)  # type: ignore[attr-defined]
        result = service.after_event(form)  # type: ignore[arg-type]
        return result.scored if result else 0

    # When both are processed concurrently
    with ThreadPoolExecutor(2) as pool:
        walked = list(pool.map(deliver, forms))

    # Then one of them walked the backlog (the other found the lease taken) and every view counts once
    assert sorted(walked) == [0, 30]
    assert sum(page_hits(rig).values()) == 30


def test_a_second_email_on_the_same_browser_gets_only_later_views_and_no_merge() -> None:
    # Given a visitor claimed by Ada's form (her backlog scored)
    service, visitors, rig = a_stitcher(5)
    rig.service.process(a_form_with_visitor())  # type: ignore[attr-defined]
    service.after_event(a_form_with_visitor())  # type: ignore[arg-type]

    # When Bob fills a form on the same computer later
    bob = a_form_event(form_id="contact", at=MONDAY + 6 * DAY, event_id="sub-bob", email="bob@analytical.example")
    bob = bob.model_copy(update={"properties": {**bob.properties, "visitor_id": VISITOR}})
    rig.service.process(bob)  # type: ignore[attr-defined]
    result = service.after_event(bob)

    # Then Bob is linked and takes the later views, but none of Ada's backlog; two separate leads
    bob_id = lead_id_for("bob@analytical.example", PEPPER)
    assert result is not None
    assert (result.holds_backlog, result.scored) == (False, 0)
    assert visitors.visitors[VISITOR]["lead_id"] == bob_id
    assert visitors.visitors[VISITOR]["first_lead"] == LEAD
    assert {lead for lead, _ in visitors.links} == {LEAD, bob_id}
    bob_state = rig.store.scores.get((bob_id, "default"))  # type: ignore[attr-defined]
    assert bob_state is None or not {"pricing_interest", "security_review"} & set(bob_state.hits)
    assert sum(page_hits(rig).values()) == 5  # Ada's, once


def test_backlog_views_score_with_their_own_days_caps() -> None:
    # Given five pricing views on one day (10 points each, at most 20 a day) and two on the next
    rig = a_scoring_rig()
    visitors = InMemoryVisitorStore()
    stored = [encode_view(f"{i:012d}view", MONDAY + i * 60, "/pricing") for i in range(5)]
    stored += [encode_view(f"{i:012d}view", MONDAY + DAY + i * 60, "/pricing") for i in range(5, 7)]
    visitors.record(VISITOR, stored, now=MONDAY, expires_at=MONDAY + 30 * DAY, max_views=MAX_VIEWS)
    service = StitchingService(visitors, rig.store, rig.service, PEPPER, rig.clock, 30 * DAY, 395 * DAY)

    # When the lead's form links the visitor
    service.after_event(a_form_with_visitor())  # type: ignore[arg-type]

    # Then each day gives at most its cap: 20 + 20
    [state] = rig.store.scores.values()
    assert state.points["pricing_interest"] == Decimal(40)
    assert state.hits["pricing_interest"] == 7


# ---- the /track service on fakes -----------------------------------------------------------------------


def a_beacon(*paths: str, visitor: str = VISITOR, token: str | None = None, start: int = 0) -> Beacon:
    events = [
        {"type": "page_view", "id": f"v{start + i:03d}" + "x" * 12, "ts": (MONDAY + start + i) * 1000,
         "url": f"https://www.example.com{path}", "path": path}
        for i, path in enumerate(paths)
    ]  # fmt: skip
    return Beacon.model_validate({"v": 1, "visitor_id": visitor, "token": token, "events": events})


def a_tracker(**limits: int) -> tuple[TrackService, InMemoryVisitorStore, InMemoryQueue, list[str]]:
    visitors = InMemoryVisitorStore()
    queue = InMemoryQueue()
    links: list[str] = []

    class Links:
        def send_json(self, bodies: list[str]) -> None:
            links.extend(bodies)

    service = TrackService(
        visitors=visitors,
        limiter=visitors,
        events=queue,
        links=Links(),
        token_keys=lambda: [KEY],
        clock=lambda: MONDAY,
        allowed_origins=frozenset({ORIGIN}),
        limits=TrackLimits(**limits),
    )
    return service, visitors, queue, links


def test_an_anonymous_view_is_stored_on_the_visitor_with_two_writes() -> None:
    service, visitors, queue, _ = a_tracker()
    result = service.accept(a_beacon("/pricing"), user_agent=CHROME, source_ip="192.0.2.1")
    assert result.outcome is Outcome.STORED
    assert len(visitors.visitors[VISITOR]["v"]) == 1
    assert visitors.writes == 2  # the rate counter and the visitor
    assert queue.sent == []


def test_a_linked_visitors_views_are_queued_for_its_lead() -> None:
    # Given a visitor Ada claimed
    service, visitors, queue, _ = a_tracker()
    visitors.claim(VISITOR, LeadRef(LEAD, "ada@analytical.example"), at=MONDAY, expires_at=MONDAY + DAY)

    # When it views the pricing page
    result = service.accept(a_beacon("/pricing?x=1"), user_agent=CHROME, source_ip="192.0.2.1")

    # Then a page_viewed event with a deterministic id goes to the lead-events queue
    assert result.outcome is Outcome.QUEUED
    [event] = queue.sent
    assert (event.email, event.properties["page_url"]) == ("ada@analytical.example", "/pricing")
    assert event.event_id == f"pv:{VISITOR}:v000xxxxxxxx"  # the view id as stored (12 characters)


def test_a_valid_token_asks_the_scorer_to_link_and_a_forged_one_does_nothing() -> None:
    service, _, _, links = a_tracker()
    service.accept(a_beacon("/pricing", token=make_token(LEAD, MONDAY + DAY, KEY)), user_agent=CHROME, source_ip="i")
    service.accept(a_beacon("/docs", token=make_token(LEAD, MONDAY + DAY, b"forged"), start=5), user_agent=CHROME,
                   source_ip="i")  # fmt: skip
    [message] = links
    import json  # noqa: PLC0415

    link = read_link_message(json.loads(message))
    assert link is not None
    assert (link["lead_id"], link["visitor_id"]) == (LEAD, VISITOR)


def test_crawlers_are_dropped_before_any_write() -> None:
    service, visitors, _, _ = a_tracker()
    result = service.accept(a_beacon("/pricing"), user_agent="Googlebot/2.1", source_ip="192.0.2.1")
    assert (result.outcome, visitors.writes) == (Outcome.BOT, 0)


def test_over_the_visitor_limit_is_refused_429_with_retry_after() -> None:
    service, _, _, _ = a_tracker(visitor_per_minute=3)
    for i in range(3):
        service.accept(a_beacon("/p", start=i), user_agent=CHROME, source_ip="192.0.2.1")
    with pytest.raises(TrackRejected) as refused:
        service.accept(a_beacon("/p", start=9), user_agent=CHROME, source_ip="192.0.2.1")
    assert refused.value.status == 429
    assert refused.value.retry_after is not None
    assert 1 <= refused.value.retry_after <= 60
    # Another visitor behind the same address is still served (until the address's own limit)
    other = service.accept(a_beacon("/p", visitor="Z" * 22), user_agent=CHROME, source_ip="192.0.2.1")
    assert other.outcome is Outcome.STORED


def test_over_the_address_limit_every_visitor_is_refused() -> None:
    service, _, _, _ = a_tracker(ip_per_minute=5)
    for i in range(5):
        service.accept(a_beacon("/p", visitor=f"{i}" * 22), user_agent=CHROME, source_ip="192.0.2.1")
    with pytest.raises(TrackRejected):
        service.accept(a_beacon("/p", visitor="Q" * 22), user_agent=CHROME, source_ip="192.0.2.1")


def test_a_visitor_stops_growing_at_max_views() -> None:
    # Given a visitor one beacon short of the bound
    service, visitors, _, _ = a_tracker(visitor_per_minute=10_000, ip_per_minute=10_000)
    for i in range(MAX_VIEWS // 10):
        service.accept(a_beacon(*["/p"] * 10, start=i * 10), user_agent=CHROME, source_ip="i")

    # When more views arrive / Then they are not stored: the item stays bounded
    result = service.accept(a_beacon("/p", start=999), user_agent=CHROME, source_ip="i")
    assert result.outcome is Outcome.FULL
    assert len(visitors.visitors[VISITOR]["v"]) == MAX_VIEWS


def test_the_instance_limiter_counts_per_address_and_visitor_and_starts_afresh_each_minute() -> None:
    # Given the in-memory limiter (the default: no write per beacon) with 2 per visitor, 3 per address
    from leadscore.adapters.rate_limits import InstanceRateLimiter  # noqa: PLC0415

    limiter = InstanceRateLimiter()

    def allow(ip: str, visitor: str, minute: int = 1) -> bool:
        return limiter.allow(ip, visitor, minute=minute, ip_limit=3, visitor_limit=2)

    # Then a visitor gets 2, the address 3 across visitors, and the next minute starts from zero
    assert [allow("a", "v1"), allow("a", "v1"), allow("a", "v1")] == [True, True, False]
    assert [allow("a", "v2"), allow("a", "v3")] == [True, False]
    assert allow("b", "v1") is False  # the visitor's own limit holds from another address too
    assert allow("a", "v1", minute=2) is True


def test_a_view_from_a_clock_in_the_future_is_stored_at_the_time_it_was_received() -> None:
    # Given a browser whose clock runs a day ahead
    service, visitors, _, _ = a_tracker()
    ahead = a_beacon("/pricing", start=DAY)

    # When its beacon arrives / Then the view is stored as happening now, never later
    service.accept(ahead, user_agent=CHROME, source_ip="192.0.2.1")
    [stored] = visitors.visitors[VISITOR]["v"]
    view = decode_view(stored)
    assert view is not None
    assert view.at == MONDAY


@settings(max_examples=40, deadline=None)
@given(
    views=st.integers(0, 50),
    crash_after=st.one_of(st.none(), st.integers(1, 50)),
    redeliveries=st.integers(0, 3),
    chunk=st.integers(1, 8),
)
def test_any_crash_and_any_redeliveries_score_each_backlog_view_exactly_once(
    views: int, crash_after: int | None, redeliveries: int, chunk: int
) -> None:
    # Given a visitor with `views` anonymous views and a scorer that may die after `crash_after` of them
    service, _, rig = a_stitcher(views, chunk=chunk)
    form = a_form_with_visitor()
    real = rig.service.process  # type: ignore[attr-defined]
    calls = {"n": 0}

    def maybe_dying(event: object) -> object:
        calls["n"] += 1
        if crash_after is not None and calls["n"] == crash_after:
            raise RuntimeError("the scorer died")
        return real(event)

    # When the form is delivered, fails or not, then delivered again `redeliveries` (+1 if it failed) times
    rig.service.process = maybe_dying  # type: ignore[attr-defined]
    try:
        service.after_event(form)  # type: ignore[arg-type]
        failed = False
    except RuntimeError:
        failed = True
    rig.service.process = real  # type: ignore[attr-defined]
    for _ in range(redeliveries + failed):
        service.after_event(form)  # type: ignore[arg-type]
    real(form)

    # Then every anonymous view was counted exactly once (page rules count hits even when capped)
    assert sum(page_hits(rig).values()) == views
