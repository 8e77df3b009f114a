"""ASGI entry point for multi-worker servers: `uvicorn maison.asgi:app --workers N`."""

from maison.app import create_app
from maison.core.collector import settle_for_serving

app = create_app(migrate=False)
settle_for_serving()
