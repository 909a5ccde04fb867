"""Small helpers for worker tests: a settable clock, committed deliveries and endpoints, reading rows back."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ecoops.automation.deliveries import Channel, Delivery, enqueue
from ecoops.automation.endpoints import WebhookEndpoint
from ecoops.automation.messages import Message
from ecoops.db import transaction
from tests.automation.delivery.conftest import SECRET


class FakeClock:
    """A minute ahead of the real time (so rows committed after it is made are due); moves when told."""

    def __init__(self) -> None:
        self.now = time.time() + 60
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def add_deliveries(
    factory: sessionmaker[Session], channel: Channel, targets: list[str], *, text: str = "hello"
) -> list[str]:
    """Commit one delivery per target (targets may repeat); their uids, in order."""
    with transaction(factory) as session:
        return [
            enqueue(
                session,
                channel=channel,
                target=target,
                message=Message(subject="s", text=f"{text} {n}"),
                recipient="manual",
                source="manual",
                source_ref=f"test:{text}:{n}:{target}",
            ).uid
            for n, target in enumerate(targets)
        ]


def add_endpoint(factory: sessionmaker[Session], url: str, *, allow_private: bool = True) -> str:
    with transaction(factory) as session:
        endpoint = WebhookEndpoint(
            name="receiver",
            url=url,
            secret=SECRET,
            allow_private=allow_private,
            enabled=True,
            disabled_reason="",
        )
        endpoint.last_error = ""
        session.add(endpoint)
        session.flush()
        return str(endpoint.id)


def rows(factory: sessionmaker[Session]) -> dict[str, Delivery]:
    with factory() as session:
        return {d.uid: d for d in session.scalars(select(Delivery))}
