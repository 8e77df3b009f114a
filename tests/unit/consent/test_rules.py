"""The one policy decision, `may`, and the state it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maison.consent.entities import ConsentState, EntryKind, LedgerEntry, Use
from maison.consent.purposes import L2_PURPOSES, PURPOSES, classify, level_includes
from maison.consent.rules import entries_from_consent_event, may, state_at, timeline

T = datetime(2026, 1, 5, 20, 0, tzinfo=UTC)


def grant(purpose: str, granted: bool = True, at: int = 0) -> LedgerEntry:
    return LedgerEntry("c", EntryKind.PURPOSE, T + timedelta(minutes=at), purpose=purpose, granted=granted)


def level(lv: str, at: int = 0) -> LedgerEntry:
    return LedgerEntry("c", EntryKind.LEVEL, T + timedelta(minutes=at), level=lv)


def test_privacy_by_default_a_new_client_is_l1_and_observed_data_is_not_collected():
    state = ConsentState()
    assert state.level == "L1"
    for purpose in ("browsing_behaviour", "search_history", "cart_activity", "email_engagement", "content_engagement"):
        assert not may(state, purpose, Use.COLLECT)
    for purpose in ("declared_categories", "purchase_history", "demographics", "consent_record", "identity"):
        assert may(state, purpose, Use.COLLECT)
    assert not any(may(state, p, Use.PERSONALIZE) for p in PURPOSES)


def test_collected_is_not_used_until_the_level_includes_it():
    state = state_at([level("L1"), grant("browsing_behaviour"), grant("declared_categories")])
    assert may(state, "browsing_behaviour", Use.COLLECT)
    assert not may(state, "browsing_behaviour", Use.PERSONALIZE)
    assert may(state, "declared_categories", Use.PERSONALIZE)
    state = state_at([level("L1"), grant("browsing_behaviour"), level("L2", at=5)])
    assert may(state, "browsing_behaviour", Use.PERSONALIZE)


def test_a_granular_toggle_off_inside_a_level_wins():
    state = state_at([level("L3"), *[grant(p) for p in PURPOSES], grant("values_inference", False, at=1)])
    assert not may(state, "values_inference", Use.PERSONALIZE)
    assert may(state, "taste_trajectory", Use.PERSONALIZE)


def test_state_is_read_at_an_instant():
    entries = [grant("browsing_behaviour", at=0), grant("browsing_behaviour", False, at=10)]
    assert may(state_at(entries, T + timedelta(minutes=5)), "browsing_behaviour", Use.COLLECT)
    assert not may(state_at(entries, T + timedelta(minutes=11)), "browsing_behaviour", Use.COLLECT)
    assert state_at(entries).purposes["browsing_behaviour"].changed_at == T + timedelta(minutes=10)


def test_restriction_stops_every_use_but_keeps_data():
    entries = [level("L3"), *[grant(p) for p in PURPOSES], LedgerEntry("c", EntryKind.RESTRICTION, T, granted=True)]
    state = state_at(entries)
    assert may(state, "purchase_history", Use.COLLECT)
    assert not any(may(state, p, u) for p in PURPOSES for u in (Use.PERSONALIZE, Use.PROFILE, Use.MARKETING))


def test_objection_to_marketing_is_a_hard_suppression_and_profiling_objection_stops_scoring():
    base = [level("L2"), *[grant(p) for p in PURPOSES]]
    marketing = state_at([*base, LedgerEntry("c", EntryKind.OBJECT_MARKETING, T, granted=True)])
    assert not any(may(marketing, p, Use.MARKETING) for p in PURPOSES)
    assert may(marketing, "browsing_behaviour", Use.PERSONALIZE)
    profiling = state_at([*base, LedgerEntry("c", EntryKind.OBJECT_PROFILING, T, granted=True)])
    assert not any(may(profiling, p, Use.PROFILE) for p in PURPOSES)
    assert not may(profiling, "browsing_behaviour", Use.PERSONALIZE)
    assert may(profiling, "declared_categories", Use.PERSONALIZE)


def test_consent_event_states_level_and_every_purpose():
    props = {"personalization_level": "L2", "purposes": {p: p in L2_PURPOSES for p in PURPOSES},
             "policy_version": "2026-01", "source": "onboarding"}
    entries = entries_from_consent_event("c", props, effective_at=T, message_id="m", method="web", geography="GB")
    assert len(entries) == 13
    state = state_at(entries)
    assert state.level == "L2" and state.granted("search_history") and not state.granted("demographics")
    assert {e.notice_version for e in entries} == {"2026-01"}


@pytest.mark.parametrize(("level_", "purpose", "expected"), [("L1", "declared_categories", True),
                                                           ("L1", "cart_activity", False),
                                                           ("L2", "cart_activity", True),
                                                           ("L2", "values_inference", False),
                                                           ("L3", "values_inference", True)])
def test_levels_nest(level_, purpose, expected):  # type: ignore[no-untyped-def]
    assert level_includes(level_, purpose) is expected


def test_special_categories_are_no_purpose():
    assert not {"health", "religion", "politics", "sexual_orientation"} & set(PURPOSES)
    assert classify({"type": "track", "event": "Something New"}) == "browsing_behaviour"


_ENTRIES = st.one_of(
    st.builds(lambda p, g, at, v: LedgerEntry("c", EntryKind.PURPOSE, T + timedelta(minutes=at), purpose=p,
                                              granted=g, notice_version=v),
              st.sampled_from(["browsing_behaviour", "email_engagement", "declared_categories"]),
              st.sampled_from([True, False, None]), st.integers(0, 5), st.sampled_from(["v1", "v2"])),
    st.builds(lambda lv, at: LedgerEntry("c", EntryKind.LEVEL, T + timedelta(minutes=at), level=lv),
              st.sampled_from(["L1", "L2", "L3", None]), st.integers(0, 5)),
    st.builds(lambda k, g, at: LedgerEntry("c", k, T + timedelta(minutes=at), granted=g),
              st.sampled_from([EntryKind.RESTRICTION, EntryKind.OBJECT_MARKETING, EntryKind.OBJECT_PROFILING]),
              st.sampled_from([True, False, None]), st.integers(0, 5)),
)


@given(st.lists(_ENTRIES, max_size=14))
@settings(max_examples=200, deadline=None)
def test_the_timeline_is_the_state_at_each_instant_folded_once(entries: list[LedgerEntry]) -> None:
    """A `ConsentBook` answers from `timeline`: one fold of the ledger, giving at each distinct instant
    (several entries may share one: a `Consent Updated` states every purpose at once) what folding
    every entry up to it gives."""
    instants, states = timeline(entries)
    assert instants == sorted({e.effective_at for e in entries})
    assert states == [state_at(entries, t) for t in instants]
