"""Read-only catalog API: products with stock per location, and content pages.

Endpoints are sync functions: FastAPI runs them in its threadpool, so blocking database calls
never stall the event loop. Unknown products raise `UnknownProduct`, which the app's one
handler renders as `{code, message, details}` with status 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Engine

from maison.catalog import service
from maison.catalog.entities import ProductFilter
from maison.core.db import reading
from maison.core.responses import JSONResponse

router = APIRouter(prefix="/v1", tags=["catalog"])

MAX_PAGE = 500


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.maison.engine
    return engine


@router.get("/products")
def list_products(
    request: Request,
    category: Annotated[str | None, Query(description="Exact category, such as Knitwear.")] = None,
    subcategory: Annotated[str | None, Query(description="Exact subcategory.")] = None,
    tag: Annotated[str | None, Query(description="Products carrying this tag.")] = None,
    collection: Annotated[str | None, Query(description="Products in this collection.")] = None,
    in_stock: Annotated[
        bool | None, Query(description="true: online units > 0; false: none.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Products by product_id, every field included; `X-Total-Count` gives the unpaged count."""
    flt = ProductFilter(
        category=category,
        subcategory=subcategory,
        tag=tag,
        collection=collection,
        in_stock=in_stock,
    )
    with reading(_engine(request)) as conn:
        items = service.list_products(conn, flt, limit=limit, offset=offset)
        total = service.count_products(conn, flt)
    return JSONResponse([p.to_dict() for p in items], headers={"X-Total-Count": str(total)})


@router.get("/products/{product_id}")
def get_product(request: Request, product_id: str) -> Response:
    """One product with its stock per location and an online summary; 404 when unknown."""
    with reading(_engine(request)) as conn:
        product = service.get_product(conn, product_id)
    return JSONResponse(product.to_dict())


@router.get("/content-pages")
def list_content_pages(
    request: Request,
    content_type: Annotated[str | None, Query(description="Such as sourcing or impact.")] = None,
) -> Response:
    """Content pages by page_id, with the topics and products each one features."""
    with reading(_engine(request)) as conn:
        pages = service.list_content_pages(conn, content_type=content_type)
    return JSONResponse([p.to_dict() for p in pages])
