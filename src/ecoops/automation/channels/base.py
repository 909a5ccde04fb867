"""What a channel is given (one outgoing message) and the two ways it can fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecoops.automation.messages import Message


@dataclass(frozen=True)
class Outgoing:
    uid: str  # the delivery's idempotency id; every channel sends it along
    target: str
    message: Message
    event: dict[str, Any] | None = None  # the event as JSON, for webhook receivers
    endpoint: WebhookTarget | None = None  # webhook deliveries only


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str
    allow_private: bool = False


class DeliveryError(Exception):
    """A send that did not succeed; `retryable` says whether trying again later may."""

    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds the receiver asked us to wait (Retry-After)
        self.status = status  # the HTTP status, where there was one


class RetryableError(DeliveryError):
    retryable = True


class PermanentError(DeliveryError):
    retryable = False


class EndpointGone(PermanentError):
    """The receiver answered 410 Gone: it wants no more deliveries, so its endpoint is disabled."""


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the delta-seconds form; an HTTP date is ignored, backoff applies)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def http_failure(status: int, body: str, retry_after: str | None = None) -> DeliveryError:
    """The error a non-2xx HTTP answer means: 408, 425, 429 and 5xx are worth retrying, other 4xx not."""
    text = f"HTTP {status}: {body[:200]}".strip()
    if status == 410:
        return EndpointGone(text, status=status)
    if status in (408, 425, 429) or status >= 500:
        return RetryableError(text, retry_after=retry_after_seconds(retry_after), status=status)
    return PermanentError(text, status=status)
