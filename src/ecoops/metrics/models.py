"""The data version: one row whose number every transaction that changes what the dashboards read moves."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.db import Base


class DataVersion(Base):
    """Moved at commit by `metrics.cache` (never by hand), read by every process to know its cache is
    still good: one row read by its key, however large the workspace."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
