"""A CRM connection (its secrets encrypted), the sync's checkpoint per object, its runs, and the stage map.

Named for any CRM (`provider`), so HubSpot's connection and sync fit the same tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecoops.audit import utcnow
from ecoops.crm.models import TEXT
from ecoops.db import Base


class CrmConnection(Base):
    """One connected CRM org. Secrets (`*_secret` columns) hold Fernet tokens, never the plain value."""

    __tablename__ = "crm_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), unique=True)  # salesforce | hubspot
    flow: Mapped[str] = mapped_column(
        String(20)
    )  # web_server | jwt_bearer (Salesforce); oauth | private_app (HubSpot)
    login_url: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(300))
    client_secret: Mapped[str] = mapped_column(Text, default="")  # encrypted; web-server flow
    username: Mapped[str] = mapped_column(String(300), default="")  # JWT bearer: the integration user
    private_key: Mapped[str] = mapped_column(Text, default="")  # encrypted; JWT bearer
    refresh_token: Mapped[str] = mapped_column(Text, default="")  # encrypted; web-server flow, OAuth
    access_token: Mapped[str] = mapped_column(Text, default="")  # encrypted; a HubSpot private app's token
    instance_url: Mapped[str] = mapped_column(String(300), default="")
    org_id: Mapped[str] = mapped_column(String(64), default="")
    scopes: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | connected
    oauth_state: Mapped[str] = mapped_column(String(64), default="")  # the web-server flow's pending state
    connected_by: Mapped[str] = mapped_column(String(200), default="")
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    api_used: Mapped[int | None] = mapped_column(Integer)  # from the last Sforce-Limit-Info header
    api_max: Mapped[int | None] = mapped_column(Integer)
    sync_every_minutes: Mapped[int] = mapped_column(Integer, default=60)  # 0: on demand only


class SyncCheckpoint(Base):
    """How far one object's sync got: every record modified before `modstamp` is stored."""

    __tablename__ = "crm_sync_checkpoints"
    __table_args__ = (UniqueConstraint("connection_id", "object_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(80))
    modstamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncRun(Base):
    """One sync: its counts over every object, how long it took, and what went wrong."""

    __tablename__ = "crm_sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"), index=True
    )
    trigger: Mapped[str] = mapped_column(String(20))  # manual | schedule | cli
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | done | rejected | failed
    records: Mapped[int] = mapped_column(Integer, default=0)  # records read from the API
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    objects: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)  # per object's counts
    import_runs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # object → its ImportRun id
    error: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. a mapped field the CRM lost
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StageMapping(Base):
    """A CRM stage and whether it counts as closed and won: from the CRM's metadata, editable."""

    __tablename__ = "crm_stage_mappings"
    __table_args__ = (UniqueConstraint("connection_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(TEXT))
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    crm_is_closed: Mapped[bool] = mapped_column(Boolean, default=False)  # as the CRM says
    crm_is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_by: Mapped[str] = mapped_column(String(200), default="")  # empty: as the CRM says


class FieldMapping(Base):
    """An admin's choice of the CRM field that fills one ecoops field of one object; without a row the
    sync's built-in choice stands (crm/connections/fields.py)."""

    __tablename__ = "crm_field_mappings"
    __table_args__ = (UniqueConstraint("connection_id", "object_name", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(80))  # Account, Contact…; companies, contacts…
    field: Mapped[str] = mapped_column(String(40))  # the import's field: industry, amount…
    crm_field: Mapped[str] = mapped_column(String(255))
    crm_type: Mapped[str] = mapped_column(String(40), default="")  # as the CRM described it when chosen
    edited_by: Mapped[str] = mapped_column(String(200), default="")
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
