"""A consent needs renewal when a notice that changed its purpose's text was published after the
notice it was given under: by publication, never by how the version names sort."""

from __future__ import annotations

from datetime import UTC, datetime

from maison.consent.entities import ConsentState, PurposeState
from maison.privacy.rules import needs_renewal

JAN, MAR, JUN = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 3, 6))
PUBLISHED = {"v9": JAN, "v10": MAR}


def given(version: str | None, at: datetime = JAN, granted: bool = True) -> ConsentState:
    return ConsentState(purposes={"browsing_behaviour": PurposeState(granted, at, version)}, has_record=True)


def test_a_consent_under_the_notice_before_the_newest_needs_renewal_though_its_name_sorts_after() -> None:
    assert needs_renewal(given("v9"), {"browsing_behaviour": "v10"}, PUBLISHED) == ["browsing_behaviour"]


def test_a_consent_under_the_newest_or_a_later_notice_does_not() -> None:
    assert needs_renewal(given("v10", MAR), {"browsing_behaviour": "v10"}, PUBLISHED) == []
    assert needs_renewal(given("v10", MAR), {"browsing_behaviour": "v9"}, PUBLISHED) == []  # "v10" < "v9" as text


def test_a_version_never_published_counts_from_when_the_consent_was_given() -> None:
    assert needs_renewal(given("banner-2025", JAN), {"browsing_behaviour": "v10"}, PUBLISHED) == ["browsing_behaviour"]
    assert needs_renewal(given(None, JUN), {"browsing_behaviour": "v10"}, PUBLISHED) == []


def test_a_withdrawn_purpose_needs_no_renewal() -> None:
    assert needs_renewal(given("v9", granted=False), {"browsing_behaviour": "v10"}, PUBLISHED) == []
