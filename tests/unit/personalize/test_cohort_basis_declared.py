"""A cohort placed with the client's declared categories says so, in its categories and its words."""

from __future__ import annotations

from datetime import UTC, datetime

from maison.personalize.cohort import Cohort


def basis(*categories: str) -> str:
    return Cohort("c", 0, ("m",) * 25, "v", "d", ("similar_customer_signals", *categories),
                  datetime(2026, 2, 10, tzinfo=UTC)).basis


def test_a_cohort_placed_by_declared_interests_says_they_share_them() -> None:
    assert basis("browsing_behaviour", "declared_categories") == (
        "25 similar clients, who browse like you and share your interests")
    assert basis("browsing_behaviour", "content_engagement", "email_engagement", "declared_categories") == (
        "25 similar clients, who browse and read like you, open our emails when you do and share your interests")
    assert basis("email_engagement", "declared_categories") == (
        "25 similar clients, who open our emails when you do and share your interests")


def test_without_declared_interests_the_words_are_unchanged() -> None:
    assert basis("browsing_behaviour", "email_engagement") == (
        "25 similar clients, who browse like you and open our emails when you do")
    assert "interests" not in basis("browsing_behaviour", "content_engagement", "purchase_history")
