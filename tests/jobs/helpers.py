"""Running the job queue by hand in tests, as the worker's job thread does."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ecoops.config import Settings
from ecoops.jobs import queue


def work_jobs(sessions: sessionmaker[Session], settings: Settings) -> list[str]:
    """Claim and run due jobs until none is left; their outcomes in order."""
    outcomes = []
    while (outcome := queue.work_once(sessions, settings)) is not None:
        outcomes.append(outcome)
    return outcomes
