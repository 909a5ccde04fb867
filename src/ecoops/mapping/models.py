"""Tables of account mapping: partners' uploaded account lists, matches and overrides, overlap
history, mapping runs, custom populations, sharing rules, and the workspace's domain aliases and parent
links.

Our side is read from the CRM tables (accounts are keyed by crm_id); a partner's side is kept per
upload, so an older list stays readable after a newer one replaces it. Matches and overrides are
keyed by the two records' own ids, never by row ids, so they survive re-runs and new uploads.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.db import Base


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class SharingLevel(StrEnum):
    """What a partner may see of one of our populations, from least to most."""

    HIDDEN = "hidden"
    COUNTS = "counts"
    OVERLAPPING = "overlapping"
    ALL = "all"


class Population(Base):
    """A custom population: a named, validated filter over our accounts (see populations.py)."""

    __tablename__ = "mapping_populations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartnerUpload(Base):
    """One account list a partner shared with us; the partner's latest is `is_current`."""

    __tablename__ = "partner_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    # Line numbers of rows left out (no id) and never matchable (neither name nor domain): reported.
    rows_without_id: Mapped[list[int]] = mapped_column(JSON, default=list)
    rows_without_key: Mapped[list[int]] = mapped_column(JSON, default=list)
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # engine column → header
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PartnerAccount(Base):
    """One row of a partner's upload: their id, the keys we match on and their population label."""

    __tablename__ = "partner_accounts"
    __table_args__ = (Index("ix_partner_accounts_upload_their_id", "upload_id", "their_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("partner_uploads.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    their_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300), default="")
    domain: Mapped[str] = mapped_column(String(300), default="")  # as given: website, domain or e-mail
    country: Mapped[str] = mapped_column(String(80), default="")
    population: Mapped[str] = mapped_column(String(120), default="")
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # the other columns, as shared


class MappingRun(Base):
    """One mapping of a partner's current list against our accounts; `fingerprint` is its input."""

    __tablename__ = "mapping_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("partner_uploads.id", ondelete="SET NULL"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    our_accounts: Mapped[int] = mapped_column(Integer, default=0)
    their_accounts: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_by: Mapped[str] = mapped_column(String(200), default="")


class Match(Base):
    """A matched pair from the latest run for its partner, with how it was made."""

    __tablename__ = "account_matches"
    __table_args__ = (UniqueConstraint("partner_id", "our_crm_id", "their_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    our_crm_id: Mapped[str] = mapped_column(String(64), index=True)
    their_id: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("mapping_runs.id", ondelete="SET NULL"))


class MatchOverride(Base):
    """A user's decision on a pair: confirmed (or added by hand) or rejected; kept by record ids."""

    __tablename__ = "match_overrides"
    __table_args__ = (UniqueConstraint("partner_id", "our_crm_id", "their_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    our_crm_id: Mapped[str] = mapped_column(String(64))
    their_id: Mapped[str] = mapped_column(String(120))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OverlapPeriod(Base):
    """Our account was in the partner's `their_population` from `began_on` until `ended_on` (open: now)."""

    __tablename__ = "overlap_periods"
    __table_args__ = (Index("ix_overlap_periods_partner_account", "partner_id", "account_crm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    account_crm_id: Mapped[str] = mapped_column(String(64))
    their_population: Mapped[str] = mapped_column(String(120))
    began_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class SharingRule(Base):
    """What a partner may see of one of our populations; `partner_id` empty is the default for all."""

    __tablename__ = "sharing_rules"
    __table_args__ = (UniqueConstraint("partner_id", "population"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    population: Mapped[str] = mapped_column(String(40))  # a population key (populations.py)
    level: Mapped[str] = mapped_column(String(20), default=SharingLevel.HIDDEN.value)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DomainAlias(Base):
    """The workspace knows `alias` is the same company as `domain` (acme.de → acme.com): both are
    registrable domains, and matching treats the alias as the domain, on both sides."""

    __tablename__ = "mapping_domain_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(253), unique=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ParentLink(Base):
    """Our account `child_crm_id` is a subsidiary of our account `parent_crm_id`: related companies, never
    the same account. An account has one parent at most, and links never form a cycle."""

    __tablename__ = "mapping_parent_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    parent_crm_id: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
