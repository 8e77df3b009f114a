"""`maison catalog import|list|show|pages`: load the catalog from files and look at it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from maison.catalog import service
from maison.catalog.entities import ONLINE, ImportReport, Product, ProductFilter
from maison.catalog.exceptions import InvalidCatalogFile
from maison.core.clock import utcnow
from maison.core.db import reading
from maison.core.runtime import cli_errors, err, open_store, out

app = typer.Typer(no_args_is_help=True)

SHOWN_ERRORS = 50  # enough to see the pattern; the rest are counted, not printed


def _print_file_errors(exc: InvalidCatalogFile) -> None:
    err.print(f"[bold red]error[/] ({exc.code}): {escape(exc.message)}")
    table = Table("line", "field", "problem")
    for e in exc.errors[:SHOWN_ERRORS]:
        table.add_row(str(e.line) if e.line else "-", escape(e.field or "-"), escape(e.message))
    err.print(table)
    if len(exc.errors) > SHOWN_ERRORS:
        err.print(f"... and {len(exc.errors) - SHOWN_ERRORS} more")


def _print_report(report: ImportReport) -> None:
    what = "products" if report.kind == "products" else "content pages"
    out.print(
        f"imported [bold]{report.total}[/] {what} from {escape(report.file)}: "
        f"{report.created} new, {report.updated} updated"
        + (f", {report.stock_rows} stock rows" if report.kind == "products" else "")
    )


@app.command("import")
@cli_errors
def import_(
    file: Annotated[Path, typer.Argument(help="A .jsonl/.ndjson or .csv file (see README).")],
    content: Annotated[
        bool, typer.Option("--content", help="The file holds content pages, not products.")
    ] = False,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv; default: from the suffix.")
    ] = None,
) -> None:
    """Import products (or content pages) all or nothing: a file with any error changes nothing."""
    if fmt not in (None, "jsonl", "csv"):
        raise typer.BadParameter("must be jsonl or csv", param_hint="--format")
    chosen: Literal["jsonl", "csv"] | None = fmt  # type: ignore[assignment]
    engine = open_store()
    try:
        with out.status(f"validating and importing {escape(file.name)}..."), engine.begin() as conn:
            if content:
                report = service.import_content_pages(conn, file, fmt=chosen)
            else:
                report = service.import_products(conn, file, now=utcnow(), fmt=chosen)
    except InvalidCatalogFile as exc:
        _print_file_errors(exc)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    _print_report(report)


@app.command("list")
@cli_errors
def list_(
    category: Annotated[str | None, typer.Option(help="Exact category, such as Knitwear.")] = None,
    tag: Annotated[str | None, typer.Option(help="Products carrying this tag.")] = None,
    collection: Annotated[str | None, typer.Option(help="Products in this collection.")] = None,
    in_stock: Annotated[
        bool | None, typer.Option("--in-stock/--out-of-stock", help="By online units.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many products.")] = 200,
) -> None:
    """Products by product_id, with price and online units."""
    flt = ProductFilter(category=category, tag=tag, collection=collection, in_stock=in_stock)
    engine = open_store()
    with reading(engine) as conn:
        items = service.list_products(conn, flt, limit=limit)
        total = service.count_products(conn, flt)
    engine.dispose()
    table = Table("product", "name", "category", "price", "online", "tags")
    for p in items:
        table.add_row(
            p.product_id,
            escape(p.name),
            escape(p.category),
            f"{p.price} {p.currency}",
            str(p.units(ONLINE)),
            escape(", ".join(p.tags)),
        )
    out.print(table)
    out.print(f"{len(items)} of {total} products")


def _stock_table(product: Product) -> Table:
    table = Table("location", *(escape(s) for s in product.sizes), "total")
    for location, per_size in product.stock.items():
        cells = [str(per_size.get(size, 0)) for size in product.sizes]
        table.add_row(escape(location), *cells, str(sum(per_size.values())))
    return table


@app.command("show")
@cli_errors
def show(
    product_id: Annotated[str, typer.Argument(help="The product's id, such as WW-001.")],
) -> None:
    """One product: every field, and its stock per location and size."""
    engine = open_store()
    with reading(engine) as conn:
        product = service.get_product(conn, product_id)
    engine.dispose()
    fields = Table.grid(padding=(0, 2))
    for name, value in product.to_dict().items():
        if name in ("stock", "online"):
            continue
        shown = (
            ", ".join(value) if isinstance(value, list) else str(value if value is not None else "")
        )
        fields.add_row(f"[bold]{name}[/]", escape(shown))
    out.print(fields)
    out.print(_stock_table(product))
    sizes = ", ".join(product.online_sizes_in_stock()) or "none"
    status = "in stock" if product.in_stock_online() else "out of stock"
    out.print(f"online: {status} (sizes: {escape(sizes)})")


@app.command("pages")
@cli_errors
def pages(
    content_type: Annotated[str | None, typer.Option(help="Such as sourcing or impact.")] = None,
) -> None:
    """Content pages, with their topics and featured products."""
    engine = open_store()
    with reading(engine) as conn:
        items = service.list_content_pages(conn, content_type=content_type)
    engine.dispose()
    table = Table("page", "path", "type", "topics", "features", "published")
    for p in items:
        table.add_row(
            p.page_id,
            escape(p.path),
            escape(p.content_type),
            escape(", ".join(p.topics)),
            escape(", ".join(p.features_products)),
            str(p.published_on or ""),
        )
    out.print(table)
