"""The demo's EcoOps maturity: integrations for its tech partners with dated histories, an assessment
per month-end and today, and the roadmap of the stage found, seeded from the template with live figures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.demo.maturity import seed_maturity
from ecoops.maturity import criteria, roadmap
from ecoops.maturity.models import Integration, MaturityAssessment
from tests.demo.conftest import SeededDatabase


def test_the_demo_is_placed_in_a_stage_with_its_evidence_and_roadmap(
    small_workspace: SeededDatabase, settings: Settings
) -> None:
    today = small_workspace.as_of
    with small_workspace.engine.connect() as connection:
        outer = connection.begin()
        try:
            session = Session(bind=connection, join_transaction_mode="create_savepoint")
            assert seed_maturity(session, SYSTEM, settings, today) == len(roadmap.TEMPLATE)
            found = session.scalars(select(Integration).order_by(Integration.id)).all()
            assert [i.status for i in found] == ["live", "listed", "validated", "building"][: len(found)]
            assert len(found) >= 3, "the small demo has tech partners"
            assert [len(i.changes) for i in found] == [4, 4, 3, 2][: len(found)]
            kept = session.scalars(select(MaturityAssessment).order_by(MaturityAssessment.assessed_on)).all()
            assert [k.assessed_on.isoformat() for k in kept] == [
                "2026-03-31",
                "2026-04-30",
                "2026-05-31",
                "2026-06-01",
            ]
            assessed = criteria.assess(session, SYSTEM, settings, today)
            assert assessed.stage.value == kept[-1].stage != "launch"  # 3 integrations validated or later
            tasks = roadmap.list_tasks(session, SYSTEM, roadmap.TaskFilter(stage=assessed.stage.value)).items
            assert {t.template_key for t in tasks} == {t.key for t in roadmap.TEMPLATE}
            lines = roadmap.lines(session, SYSTEM, settings, tasks, today)
            assert all(line.owner != "—" for line in lines)
            assert any(line.value for line in lines), "the roadmap shows live figures"
        finally:
            outer.rollback()
