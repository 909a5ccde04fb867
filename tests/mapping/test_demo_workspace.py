"""The issue's "done when", on a (small) demo workspace, through the web app: a partner manager uploads
a partner's export, sees the overlap matrix, opens the accounts behind a cell, sees why two records
matched, rejects a match that stays rejected after a re-run, sets sharing levels and previews what
the partner would see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecoops.actors import SYSTEM
from ecoops.config import Settings
from ecoops.db import make_engine, migrate, session_factory, transaction
from ecoops.demo.partner_exports import PartnerExport, write_partner_exports
from ecoops.demo.people import DEMO_PASSWORD, STAFF
from ecoops.demo.workspace import seed_workspace
from ecoops.mapping import runs
from ecoops.mapping.models import Match
from ecoops.web.app import create_app
from tests.factories import cheap_password_hashing, csrf_from, sign_in
from tests.jobs.helpers import work_jobs

MANAGER = "partners@"


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Engine, PartnerExport, Path]]:
    folder = Path(tmp_path_factory.mktemp("demo-mapping"))
    settings = Settings(env="test", var_dir=folder, secret_key="m" * 40)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with cheap_password_hashing():
        with transaction(session_factory(engine)) as session:
            seeded = seed_workspace(session, SYSTEM, seed=11, as_of=date(2026, 6, 1), account_count=300)
        export = max(seeded.exports, key=lambda e: len(e.truth))
        (path,) = [p for p in write_partner_exports(seeded.exports, folder) if p.name == export.filename]
        with TestClient(create_app(settings, engine), follow_redirects=False) as client:
            yield client, engine, export, path
    engine.dispose()


def test_upload_matrix_why_reject_sharing_preview(
    demo: tuple[TestClient, Engine, PartnerExport, Path],
) -> None:
    client, engine, export, path = demo
    partner_id = export.partner.id
    sign_in(client, next(s.email for s in STAFF if s.email.startswith(MANAGER)), DEMO_PASSWORD)
    page = client.get(f"/mapping/partners/{partner_id}")
    uploaded = client.post(
        f"/mapping/partners/{partner_id}/uploads",
        data={"csrf_token": csrf_from(page.text)},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )
    assert uploaded.status_code == 303
    assert work_jobs(session_factory(engine), client.app.state.settings) == ["done"]  # the worker's run

    # The matches agree with the demo's truth (precision first, most of the recall).
    with session_factory(engine)() as session:
        found = {
            (m.their_id, m.our_crm_id)
            for m in session.scalars(select(Match).where(Match.partner_id == partner_id))
        }
    truth = set(export.truth)
    assert len(found - truth) <= 1 and len(found & truth) >= 0.8 * len(truth)

    page = client.get(f"/mapping/partners/{partner_id}")
    cell_link = r'href="(/mapping/partners/\d+/overlaps\?ours=[^"]+)"><strong class="count">([\d,]+)</strong>'
    cells = re.findall(cell_link, page.text)
    assert cells, "the matrix has no non-empty cell"
    cell_url = cells[0][0].replace("&amp;", "&")
    cell = client.get(cell_url)
    assert "score" in cell.text and "evidence" in cell.text
    our_id, their_id = re.findall(
        r'name="our_crm_id" value="([^"]+)"><input type="hidden" name="their_id" value="([^"]+)"', cell.text
    )[0]
    rejected = client.post(
        f"/mapping/partners/{partner_id}/decisions",
        data={
            "csrf_token": csrf_from(cell.text),
            "our_crm_id": our_id,
            "their_id": their_id,
            "decision": "rejected",
        },
    )
    assert rejected.status_code == 303
    with transaction(session_factory(engine)) as session:  # `ecoops map` later: still rejected
        runs.run_mapping(session, SYSTEM, partner_id, today=date(2026, 7, 1))
    with session_factory(engine)() as session:
        kept = session.scalar(
            select(Match.id).where(
                Match.partner_id == partner_id, Match.our_crm_id == our_id, Match.their_id == their_id
            )
        )
    assert kept is None

    sharing = client.get(f"/mapping/partners/{partner_id}/sharing")
    saved = client.post(
        f"/mapping/partners/{partner_id}/sharing",
        data={
            "csrf_token": csrf_from(sharing.text),
            "level_customers": "overlapping",
            "fields_customers": ["name", "country"],
            "level_prospects": "counts",
        },
    )
    assert saved.status_code == 303
    preview = client.get(f"/mapping/partners/{partner_id}/preview").text
    headings = re.findall(r"<h2>([^<]+) <span", preview)
    assert [h.strip() for h in headings] == ["Customers", "Prospects"]
    assert "<th>owner</th>" not in preview and "<th>name</th>" in preview
