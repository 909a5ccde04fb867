"""Log lines as JSON or plain text, each carrying the id of the request it was written for.

The id lives in a context variable set by the request middleware (ops/requests.py): every line logged
while a request is handled, by any logger, carries it, and lines logged outside a request carry none.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ecoops.config import Settings

request_id: ContextVar[str | None] = ContextVar("ecoops_request_id", default=None)

# The attributes every LogRecord has: whatever else a record holds came from `extra=` and is logged too.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",  # uvicorn's message with terminal colours: the plain one is there
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (`-` outside a request) for either format."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, the `extra` fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        line |= {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def handler(settings: Settings, stream: Any = None) -> logging.Handler:
    """A handler writing to `stream` (stderr) in the format `settings` choose."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(RequestIdFilter())
    out.setFormatter(JsonFormatter() if settings.json_logs else logging.Formatter(TEXT_FORMAT))
    return out


def configure(settings: Settings) -> None:
    """Send every logger's lines (uvicorn's too, which then propagate to the root) to stderr, INFO and up;
    called by `ecoops serve`, `ecoops worker` and the ASGI entry point (each process uvicorn starts)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(settings))
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        # An earlier uvicorn.Config in this process (log_level, or a dictConfig) may have quietened them.
        logger.setLevel(logging.INFO)
        logger.disabled = False
    # Our middleware writes the access log, with route and request id: uvicorn's would say it twice.
    logging.getLogger("uvicorn.access").handlers.clear()
    logging.getLogger("uvicorn.access").propagate = False
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin, each start
