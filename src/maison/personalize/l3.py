"""What L3 (identity-predictive) sections know about a client at the send instant, and what
is kept of it.

`load` gathers, each only while its purpose may be used at the instant:
- the taste trajectory (`taste_trajectory`), from the client's usable history and the shop's
  sales as they were at each view (an aggregate);
- inferred values (`values_inference`), with their confidences;
- collection access: grants recorded before the instant, plus any the trajectory opens now;
- the cohort's product affinity (`similar_customer_signals`), from `personalize.cohort`.

`derived_rows` are what a sent L3 digest derived (trajectory, inferred values, new collection
grants) to `client_derived`, for the privacy settings and the export. When values inference
is off, an empty inferred-values row supersedes any earlier one, so nothing inferred under an
old consent keeps being shown as current.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from maison.analytics import aggregates
from maison.catalog.entities import ContentPage, Product
from maison.consent import repository as consent_repo
from maison.consent.entities import LedgerEntry
from maison.core.settings import get_settings
from maison.personalize import cohort as cohorts
from maison.personalize import cohort_signals as signals
from maison.personalize import derived
from maison.personalize.history import ClientHistory
from maison.personalize.l3_inputs import CohortAffinity, IdentityInputs, derive
from maison.personalize.reads import ClientReads
from maison.personalize.top_sellers import WINDOW
from maison.personalize.trajectory import SalesTimeline, months
from maison.personalize.vocabulary import Vocabulary, from_settings

MODEL_VERSION = "l3-identity/2026.1"
TASTE_TRAJECTORY, VALUES, SIMILAR = "taste_trajectory", "values_inference", "similar_customer_signals"


def vocabulary() -> Vocabulary:
    return from_settings(get_settings().personalize)


def load(
    conn: Connection, client_id: str, *, at: datetime, allowed: frozenset[str], history: ClientHistory | None,
    products: Sequence[Product], pages: Sequence[ContentPage], vocab: Vocabulary | None = None,
    ledger: Sequence[LedgerEntry] | None = None, shared: cohorts.SharedReads | None = None,
    reads: ClientReads | None = None,
) -> IdentityInputs:
    """`ledger`: the client's consent entries when the caller already read them; `shared`: a job's
    cohort reads (`cohort.SharedReads`); `reads`: the client's consent and events, read already."""
    vocab = vocab or vocabulary()
    before = at - timedelta(microseconds=1)
    kept = (reads.recorded.collections(client_id, at=before)
            if reads is not None and reads.recorded is not None else None)
    recorded = kept if kept is not None else frozenset(derived.collections(conn, client_id, at=before))
    if history is None:
        return IdentityInputs(vocab, collections=recorded)
    if ledger is None:
        ledger = consent_repo.entries_for(conn, [client_id]).get(client_id, [])
    joined = _joined(ledger, history)
    spans = months(joined, at, history.zone) if TASTE_TRAJECTORY in allowed else []
    start = spans[0].start - WINDOW if spans else at
    if not spans:
        sales = SalesTimeline([], products)
    elif shared is not None and at <= shared.until:
        sales = shared.timeline(products).since(start)  # views are before `at`: no window reaches past it
    else:
        sales = SalesTimeline(aggregates.sales(conn, start=start, end=at), products)
    cohort = _cohort(conn, client_id, at=at, shared=shared, reads=reads) if SIMILAR in allowed else None
    return derive(history, joined=joined, allowed=allowed, products=products, pages=pages, sales=sales,
                  vocabulary=vocab, recorded=recorded, cohort=cohort)


def _joined(ledger: Sequence[LedgerEntry], history: ClientHistory) -> datetime:
    """When the client joined: their first consent record, else their first usable event."""
    stamps = [e.effective_at for e in ledger if e.effective_at < history.at]
    stamps += [m.at for m in history.moments[:1]]
    return min(stamps) if stamps else history.at


def _cohort(
    conn: Connection, client_id: str, *, at: datetime, shared: cohorts.SharedReads | None = None,
    reads: ClientReads | None = None,
) -> CohortAffinity | None:
    """The client's cohort (`personalize.cohort`) and what it buys more than clients overall."""
    found = cohorts.cohort_of(conn, client_id, at=at, shared=shared, reads=reads)
    if found is None:
        return None
    # only what the cohort buys markedly more than clients overall is ever offered from it
    affinity = cohorts.cohort_product_affinity(conn, found, at=at, shared=shared, min_lift=signals.MIN_LIFT)
    return CohortAffinity(len(found.members), {pid: (a.members_bought, a.lift) for pid, a in affinity.items()},
                          tuple(found.data_categories), found)


def derived_rows(
    client_id: str, inputs: IdentityInputs, *, at: datetime, allowed: frozenset[str]
) -> list[dict[str, Any]]:
    """The `client_derived` rows of what a sent L3 digest derived: its trajectory, its inferred
    values (empty when values inference is off) and the collections it opened."""
    rows = []
    if inputs.months:
        categories = sorted({c for m in inputs.months for c in m.data_categories})
        rows.append(derived.row(client_id, kind=derived.TRAJECTORY, as_of=at, model_version=MODEL_VERSION,
                                payload=[m.to_dict() for m in inputs.months], data_categories=categories))
    categories = sorted({c for v in inputs.values for c in v.data_categories}) or [VALUES]
    rows.append(derived.row(client_id, kind=derived.INFERRED_VALUES, as_of=at, model_version=MODEL_VERSION,
                            payload=[v.to_dict() for v in inputs.values] if VALUES in allowed else [],
                            data_categories=categories))
    rows += [derived.row(client_id, kind=derived.COLLECTION_ACCESS, as_of=at, model_version=MODEL_VERSION,
                         payload=access.to_payload(), data_categories=access.data_categories)
             for access in inputs.access]
    return rows