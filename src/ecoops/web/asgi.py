"""The ASGI entry point for servers: `uvicorn ecoops.web.asgi:app`."""

from ecoops.web.app import create_app

app = create_app()
