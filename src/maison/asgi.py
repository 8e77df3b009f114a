"""ASGI entry point for multi-worker servers: `uvicorn maison.asgi:app --workers N`."""

from maison.app import create_app, settle_for_serving

app = create_app(migrate=False)
settle_for_serving()
