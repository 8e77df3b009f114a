"""The identifiers a message carries, for identity resolution."""

from __future__ import annotations

import pytest

from maison.identity.rules import EMAIL, PHONE, USER, identifiers_of


def test_an_identify_carries_its_user_id_first_then_email_and_phone() -> None:
    found = identifiers_of("identify", "u1", None, {"email": " Ada@Example.COM ", "phone": "+33 6 12 34 56 78"})
    assert found[0] == (USER, "u1")
    assert (EMAIL, "ada@example.com") in found
    assert (PHONE, "+33612345678") in found


@pytest.mark.parametrize("traits", [
    {"phone": "06 12 34 56 78", "country": "FR"},
    {"phone": "06 12 34 56 78", "address": {"country": "FR"}},  # Segment's reserved address trait
], ids=["flat country", "address.country"])
def test_a_national_phone_number_is_read_in_the_country_the_traits_state(traits: dict[str, object]) -> None:
    assert (PHONE, "+33612345678") in identifiers_of("identify", "u1", None, traits)


def test_a_national_phone_number_without_a_country_is_no_identifier() -> None:
    assert [k for k, _ in identifiers_of("identify", "u1", None, {"phone": "06 12 34 56 78"})] == [USER]


def test_traits_make_identifiers_only_on_identify() -> None:
    assert identifiers_of("track", "u1", "a1", {"email": "ada@example.com"}) == [(USER, "u1"), ("anon", "a1")]
