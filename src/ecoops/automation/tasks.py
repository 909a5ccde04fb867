"""Tasks: to-dos a rule gives one of our users (follow up this overlap, review this registration).

A task is stored directly (it is not a delivery); its `uid` makes a rule's task for one event and one
user exist once, however often the dispatcher runs.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoops import audit
from ecoops.actors import Actor, ActorKind
from ecoops.audit import utcnow
from ecoops.db import Base
from ecoops.permissions import NotFound


class Task(Base):
    __tablename__ = "automation_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(500), default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    rule_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the task outlives its rule
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def add_task(
    session: Session,
    *,
    uid: str,
    user_id: int,
    title: str,
    link: str = "",
    due_on: date | None = None,
    rule_id: int | None = None,
    event_id: int | None = None,
) -> Task:
    """The task with this uid, created if it does not exist yet (the dispatcher may run twice)."""
    existing = session.scalar(select(Task).where(Task.uid == uid))
    if existing is not None:
        return existing
    task = Task(
        uid=uid,
        user_id=user_id,
        title=title[:200],
        link=link[:500],
        due_on=due_on,
        rule_id=rule_id,
        event_id=event_id,
    )
    session.add(task)
    session.flush()
    return task


def my_tasks(session: Session, actor: Actor, *, include_done: bool = False) -> list[Task]:
    """The actor's own tasks, open ones first by due date."""
    if actor.kind != ActorKind.USER or actor.id is None:
        return []
    statement = select(Task).where(Task.user_id == actor.id)
    if not include_done:
        statement = statement.where(Task.done_at.is_(None))
    statement = statement.order_by(Task.done_at.is_not(None), Task.due_on.is_(None), Task.due_on, Task.id)
    return list(session.scalars(statement.limit(500)))


def mark_done(session: Session, actor: Actor, task_id: int, *, done: bool = True) -> Task:
    """Tick off (or reopen) one of the actor's own tasks; someone else's task is not found."""
    task = session.get(Task, task_id)
    if task is None or actor.kind != ActorKind.USER or task.user_id != actor.id:
        raise NotFound(f"no task {task_id}")
    task.done_at = utcnow() if done else None
    session.flush()
    audit.record(session, actor, "task.done" if done else "task.reopened", "task", task.id)
    return task
