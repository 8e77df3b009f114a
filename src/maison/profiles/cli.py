"""`maison profile show ID`: a client's profile as Rich tables, or as JSON."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table

from maison.core.db import reading
from maison.core.responses import dumps
from maison.core.runtime import cli_errors, open_store, out
from maison.profiles import service
from maison.profiles.entities import Moment, Profile

app = typer.Typer(no_args_is_help=True)
_ID_HELP = "Client id, userId, anonymousId, email or phone."


@app.callback()
def _group() -> None:
    """Client profiles."""


@app.command()
@cli_errors
def show(
    identifier: Annotated[str, typer.Argument(help=_ID_HELP)],
    at: Annotated[str | None, typer.Option(help="Profile as of this ISO 8601 instant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """Show one client's profile."""
    as_of = service.parse_as_of(at, name="--at")
    engine = open_store()
    try:
        with reading(engine) as conn:
            profile = service.get_profile(conn, identifier, as_of=as_of)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(dumps(profile.to_dict()).decode())
        return
    render(profile)


def render(profile: Profile) -> None:
    for table in _tables(profile):
        if table.row_count:
            out.print(table)


def _when(m: Moment | None) -> str:
    if m is None:
        return "-"
    return f"{m.local:%a %d %b %Y %H:%M} ({m.part_of_day})"


def _or_dash(value: Any) -> Any:
    return "-" if value is None else value


def _money(value: Any, currency: str | None = None) -> str:
    if value is None:
        return "-"
    return f"{currency or ''} {value:,.2f}".strip()


def _tables(p: Profile) -> list[Table]:
    return [_summary(p), _purchases(p), _carts(p), _wishlist(p), _viewed(p), _searches(p),
            _content(p), _emails(p)]


def _summary(p: Profile) -> Table:
    t = Table(title=f"Client {p.client_id}", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    tr = p.traits
    rows: list[tuple[str, Any]] = [
        ("identifiers", ", ".join(f"{k}:{v}" for k, v in p.identifiers)),
        ("declared categories", ", ".join(tr.declared_categories) or "-"),
        ("city / country", f"{tr.city or '-'} / {tr.country or '-'}"),
        ("time zone", tr.timezone or "-"),
        ("sizes", _or_dash(tr.sizes)),
        ("channel preferences", _or_dash(tr.channel_preferences)),
        ("events", p.event_count),
        ("first seen", _when(p.first_seen)),
        ("last seen", _when(p.last_seen)),
        ("RFM", f"recency {p.rfm.recency_days if p.rfm.recency_days is not None else '-'} d, "
                f"{p.rfm.frequency} orders, {_money(p.rfm.monetary)}"),
        ("as of", p.as_of.isoformat()),
    ]
    rows += [(k, v) for k, v in sorted(tr.other.items())]
    for key, value in rows:
        t.add_row(key, str(value))
    return t


def _purchases(p: Profile) -> Table:
    t = Table("when", Column("order", overflow="fold"), "channel", "items", "total",
              title="Purchases")
    for o in p.purchases:
        items = ", ".join(f"{i.product_id} {i.variant or ''}".strip() for i in o.lines)
        channel = f"store {o.store_id}" if o.channel == "store" and o.store_id else o.channel
        t.add_row(_when(o.moment), o.order_id, channel, items, _money(o.total, o.currency))
    return t


def _carts(p: Profile) -> Table:
    t = Table(Column("cart", overflow="fold"), "status", "last activity", "items", "total",
              title="Carts")
    for c in p.carts:
        items = ", ".join(f"{i.product_id} {i.variant or ''} x{i.quantity}" for i in c.items)
        total = _money(c.total, c.currency)
        t.add_row(c.cart_id or "-", c.status, _when(c.last_activity), items, total)
    return t


def _wishlist(p: Profile) -> Table:
    t = Table("product", "name", "saved", title="Wishlist")
    for w in p.wishlist:
        t.add_row(w.product_id, w.name or "", _when(w.saved))
    return t


def _viewed(p: Profile) -> Table:
    t = Table("product", "name", "visits", "dwell s", "visits (local)", title="Viewed products")
    for v in p.viewed_products:
        when = "; ".join(f"{x.moment.local:%a %d %b %H:%M} {x.moment.part_of_day}"
                         for x in v.visits)
        t.add_row(v.product_id, v.name or "", str(v.visit_count), f"{v.dwell_seconds:.0f}", when)
    return t


def _searches(p: Profile) -> Table:
    t = Table("when", "query", title="Searches")
    for s in p.searches:
        t.add_row(_when(s.moment), s.query)
    return t


def _content(p: Profile) -> Table:
    t = Table("page", "type", "visits", "dwell s", "last visit", title="Content engagement")
    for e in p.content_engagement.by_page:
        t.add_row(e.name or e.path or "", e.content_type, str(e.visits), f"{e.dwell_seconds:.0f}",
                  _when(e.last_visit))
    return t


def _emails(p: Profile) -> Table:
    t = Table("local hour", "opens", title=f"Email opens ({len(p.email_opens.opens)})")
    for hour, count in p.email_opens.by_hour.items():
        t.add_row(f"{hour:02d}:00", str(count))
    return t
