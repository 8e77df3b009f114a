"""ASGI entry point for multi-worker servers: `uvicorn maison.asgi:app --workers N`."""

from maison.app import create_app

app = create_app(migrate=False)
