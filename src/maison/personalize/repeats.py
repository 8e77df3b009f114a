"""Resting L3 picks: a piece the identity-predictive section suggested is not pushed again for a
few weeks (pure).

A good sales associate does not push the same exploratory piece every week. A piece sent in the
`identity_predictive` section of the digest of week w *rests* in weeks w+1 ... w+`weeks` and may
come back from week w+`weeks`+1. Weeks are counted Monday to Monday in the client's zone, so a
send time that moves, or a change of clocks, does not stretch or shrink the rest. What was sent
is read from the decision audit as it stood before the send instant (no look-ahead).

A piece the client has viewed or saved since it was last sent does not rest: her own interest is
news. The L2 sections take it up (a saved piece, or one viewed on two days, is a piece she is
considering, told with her visits), and the exploratory pickers leave out what she has viewed,
so an exploratory reason ("you have not looked at this piece yet") stays true.

Resting only takes pieces out of the pool before the pickers choose: every reason is the one of
the piece actually chosen, and nothing is said about the pieces held back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from maison.personalize.history import PRODUCT_VIEWED, WISHLIST_ADDED, ClientHistory

DEFAULT_REST_WEEKS = 4  # the house default (`PersonalizeSettings.pick_rest_weeks`)


@dataclass(frozen=True, slots=True)
class SentPick:
    """A piece sent in an earlier digest's L3 section, and that digest's send instant."""

    product_id: str
    sent_at: datetime


def resting(
    sent: Iterable[SentPick], history: ClientHistory | None, *, at: datetime, weeks: int
) -> frozenset[str]:
    """The pieces that may not be offered again at `at` (an aware send instant in the client's zone).

    `history` is what the client's consent lets us read at `at`: a view or a save it does not
    hold (browsing switched off) cannot lift a rest.
    """
    if weeks <= 0:
        return frozenset()
    latest: dict[str, datetime] = {}
    for pick in sent:
        if pick.sent_at < at and weeks_between(pick.sent_at, at) <= weeks:
            latest[pick.product_id] = max(latest.get(pick.product_id, pick.sent_at), pick.sent_at)
    return frozenset(pid for pid, when in latest.items() if not _engaged_since(history, pid, when))


def weeks_between(earlier: datetime, later: datetime) -> int:
    """Whole weeks from the week (Monday, local to `later`'s zone) of `earlier` to that of `later`."""
    zone = later.tzinfo
    return (_monday(later.date()) - _monday(earlier.astimezone(zone).date())).days // 7


def lookback(at: datetime, weeks: int) -> datetime:
    """A safe start for reading earlier sends: every digest that can make a piece rest at `at`
    was sent after it."""
    return at - timedelta(weeks=weeks + 1)


def _engaged_since(history: ClientHistory | None, product_id: str, when: datetime) -> bool:
    if history is None:
        return False
    return any(m.at >= when for m in history.touching(product_id, PRODUCT_VIEWED, WISHLIST_ADDED))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
