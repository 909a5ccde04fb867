"""The ASGI entry point for servers: `uvicorn ecoops.web.asgi:app`.

Logging is set up here too, so each process uvicorn starts (--workers, --reload) logs in the chosen format.
"""

from ecoops.config import get_settings
from ecoops.ops import logs
from ecoops.web.app import create_app

logs.configure(get_settings())
app = create_app()
